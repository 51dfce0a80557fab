//! Creating stores by backend, so the topology picks the backend per store.

use std::time::Duration;

use super::{
    InMemoryKeyValueStore, InMemorySessionStore, InMemoryWindowStore, KeyValueStore, SessionStore, StoreEnv,
    WindowStore,
};
#[cfg(feature = "rocksdb")]
use super::{RocksDbKeyValueStore, RocksDbSessionStore, RocksDbWindowStore};
use crate::serdes::{Data, SerdeRef};
use crate::Result;

/// Where a store keeps its entries. Every backend implements the same store traits and
/// iterates in the same order (by key bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreBackend {
    /// In memory: fast, lost on restart, rebuilt from the changelog; bounded only by what
    /// the store holds.
    InMemory,
    /// In RocksDB on local disk, under `<state dir>/<application id>/<task id>/<store>`,
    /// with memory bounded by the [`RocksDbMemory`](super::RocksDbMemory) all stores share:
    /// for state larger than memory. Needs the `rocksdb` feature (on by default).
    #[cfg(feature = "rocksdb")]
    RocksDb,
}

/// A key-value store of `backend` for one task; a RocksDB store opens (or creates)
/// `env.store_dir(name)`.
///
/// # Errors
///
/// [`StreamsError::State`](crate::StreamsError::State) when RocksDB cannot open the directory.
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
/// use streamz_core::state::{key_value_store, StoreBackend, StoreEnv};
///
/// let env = StoreEnv::new(std::env::temp_dir().join("streamz-doc-kv"));
/// let mut store = key_value_store::<String, i64>("balances", Arc::new(Utf8), StoreBackend::InMemory, &env)?;
/// store.put(&"alice".to_string(), 10);
/// assert_eq!(store.name(), "balances");
/// assert_eq!(store.get(&"alice".to_string()), Some(10));
/// # Ok::<(), streamz_core::StreamsError>(())
/// ```
pub fn key_value_store<K: Data, V: Data>(
    name: impl Into<String>,
    key_serde: SerdeRef<K>,
    backend: StoreBackend,
    env: &StoreEnv,
) -> Result<Box<dyn KeyValueStore<K, V>>> {
    let name = name.into();
    #[cfg(not(feature = "rocksdb"))]
    let _ = env;
    Ok(match backend {
        StoreBackend::InMemory => Box::new(InMemoryKeyValueStore::new(name, key_serde)),
        #[cfg(feature = "rocksdb")]
        StoreBackend::RocksDb => {
            let dir = env.store_dir(&name);
            Box::new(RocksDbKeyValueStore::open(name, key_serde, &dir, env.memory())?)
        }
    })
}

/// A window store of `backend` for one task; see [`InMemoryWindowStore`] for retention and
/// duplicates.
///
/// # Errors
///
/// As [`key_value_store`].
pub fn window_store<K: Data, V: Data>(
    name: impl Into<String>,
    key_serde: SerdeRef<K>,
    retention: Duration,
    window_size: Duration,
    retain_duplicates: bool,
    backend: StoreBackend,
    env: &StoreEnv,
) -> Result<Box<dyn WindowStore<K, V>>> {
    let name = name.into();
    #[cfg(not(feature = "rocksdb"))]
    let _ = env;
    Ok(match backend {
        StoreBackend::InMemory => {
            Box::new(InMemoryWindowStore::new(name, key_serde, retention, window_size, retain_duplicates))
        }
        #[cfg(feature = "rocksdb")]
        StoreBackend::RocksDb => {
            let dir = env.store_dir(&name);
            let store = RocksDbWindowStore::open(
                name,
                key_serde,
                retention,
                window_size,
                retain_duplicates,
                &dir,
                env.memory(),
            );
            Box::new(store?)
        }
    })
}

/// A session store of `backend` for one task; see [`InMemorySessionStore`] for retention.
///
/// # Errors
///
/// As [`key_value_store`].
pub fn session_store<K: Data, V: Data>(
    name: impl Into<String>,
    key_serde: SerdeRef<K>,
    retention: Duration,
    backend: StoreBackend,
    env: &StoreEnv,
) -> Result<Box<dyn SessionStore<K, V>>> {
    let name = name.into();
    #[cfg(not(feature = "rocksdb"))]
    let _ = env;
    Ok(match backend {
        StoreBackend::InMemory => Box::new(InMemorySessionStore::new(name, key_serde, retention)),
        #[cfg(feature = "rocksdb")]
        StoreBackend::RocksDb => {
            let dir = env.store_dir(&name);
            Box::new(RocksDbSessionStore::open(name, key_serde, retention, &dir, env.memory())?)
        }
    })
}
