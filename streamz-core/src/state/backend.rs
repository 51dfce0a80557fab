//! Creating stores by backend, so the topology picks the backend per store.

use std::time::Duration;

use super::{
    InMemoryKeyValueStore, InMemorySessionStore, InMemoryWindowStore, KeyValueStore, SessionStore, WindowStore,
};
use crate::serdes::SerdeRef;

/// Where a store keeps its entries. Every backend implements the same store traits and
/// iterates in the same order (by key bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreBackend {
    /// In memory: fast, lost on restart, rebuilt from the changelog.
    InMemory,
}

/// A new, empty key-value store of `backend`, for one task.
///
/// # Examples
///
/// ```
/// # use std::sync::Arc;
/// # use streamz_core::error::SerdeError;
/// # use streamz_core::serdes::Serde;
/// # struct Utf8;
/// # impl Serde<String> for Utf8 {
/// #     fn name(&self) -> &'static str { "utf-8" }
/// #     fn serialize(&self, v: &String, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
/// #         out.extend_from_slice(v.as_bytes());
/// #         Ok(true)
/// #     }
/// #     fn deserialize(&self, b: Option<&[u8]>) -> Result<String, SerdeError> {
/// #         Ok(String::from_utf8_lossy(b.unwrap_or_default()).into_owned())
/// #     }
/// # }
/// use streamz_core::state::{key_value_store, StoreBackend};
///
/// let mut store = key_value_store::<String, i64>("balances", Arc::new(Utf8), StoreBackend::InMemory);
/// store.put(&"alice".to_string(), 10);
/// assert_eq!(store.name(), "balances");
/// assert_eq!(store.get(&"alice".to_string()), Some(10));
/// ```
pub fn key_value_store<K, V>(
    name: impl Into<String>,
    key_serde: SerdeRef<K>,
    backend: StoreBackend,
) -> Box<dyn KeyValueStore<K, V>>
where
    K: Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    match backend {
        StoreBackend::InMemory => Box::new(InMemoryKeyValueStore::new(name, key_serde)),
    }
}

/// A new, empty window store of `backend`, for one task; see [`InMemoryWindowStore`] for
/// retention and duplicates.
pub fn window_store<K, V>(
    name: impl Into<String>,
    key_serde: SerdeRef<K>,
    retention: Duration,
    window_size: Duration,
    retain_duplicates: bool,
    backend: StoreBackend,
) -> Box<dyn WindowStore<K, V>>
where
    K: Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    match backend {
        StoreBackend::InMemory => {
            Box::new(InMemoryWindowStore::new(name, key_serde, retention, window_size, retain_duplicates))
        }
    }
}

/// A new, empty session store of `backend`, for one task; see [`InMemorySessionStore`] for
/// retention.
pub fn session_store<K, V>(
    name: impl Into<String>,
    key_serde: SerdeRef<K>,
    retention: Duration,
    backend: StoreBackend,
) -> Box<dyn SessionStore<K, V>>
where
    K: Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    match backend {
        StoreBackend::InMemory => Box::new(InMemorySessionStore::new(name, key_serde, retention)),
    }
}
