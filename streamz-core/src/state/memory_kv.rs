//! An in-memory key-value store ordered by key bytes.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;

use super::key_buf::KeyBuf;
use super::{KeyValueStore, StateStore};
use crate::serdes::SerdeRef;

/// A [`KeyValueStore`] held in memory, ordered by the serialized bytes of its keys (as every
/// streamz store is), so it iterates in the same order a RocksDB store would.
///
/// Lookups encode the key into a reused buffer and do not allocate; a put allocates only for
/// a key not yet present.
///
/// # Panics
///
/// Every operation that takes a key panics if the key serde fails or returns null for it:
/// operators skip null keys before they reach a store.
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
/// use streamz_core::state::{InMemoryKeyValueStore, KeyValueStore};
///
/// let mut store = InMemoryKeyValueStore::<String, u64>::new("spend", Arc::new(Utf8));
/// store.put(&"bob".to_string(), 7);
/// store.put(&"alice".to_string(), 3);
/// assert_eq!(store.get(&"bob".to_string()), Some(7));
/// let keys: Vec<String> = store.all().map(|(k, _)| k).collect();
/// assert_eq!(keys, ["alice", "bob"]);
/// ```
pub struct InMemoryKeyValueStore<K, V> {
    keys: KeyBuf<K>,
    map: BTreeMap<Vec<u8>, (K, V)>,
}

impl<K: 'static, V> InMemoryKeyValueStore<K, V> {
    /// An empty store named `name` whose keys are ordered by their encoding in `key_serde`.
    pub fn new(name: impl Into<String>, key_serde: SerdeRef<K>) -> Self {
        InMemoryKeyValueStore { keys: KeyBuf::new(name.into(), key_serde), map: BTreeMap::new() }
    }
}

impl<K, V> fmt::Debug for InMemoryKeyValueStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryKeyValueStore").field("name", &self.keys.store()).field("len", &self.map.len()).finish()
    }
}

impl<K, V> StateStore for InMemoryKeyValueStore<K, V>
where
    K: Send + 'static,
    V: Send + 'static,
{
    fn name(&self) -> &str {
        self.keys.store()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<K, V> KeyValueStore<K, V> for InMemoryKeyValueStore<K, V>
where
    K: Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    fn get(&self, key: &K) -> Option<V> {
        self.keys.with(key, |bytes| self.map.get(bytes).map(|(_, v)| v.clone()))
    }

    fn put(&mut self, key: &K, value: V) {
        let map = &mut self.map;
        self.keys.with(key, |bytes| match map.get_mut(bytes) {
            Some(entry) => entry.1 = value,
            None => {
                map.insert(bytes.to_vec(), (key.clone(), value));
            }
        })
    }

    fn delete(&mut self, key: &K) -> Option<V> {
        let map = &mut self.map;
        self.keys.with(key, |bytes| map.remove(bytes).map(|(_, v)| v))
    }

    /// Entries with `from <= key <= to` by key bytes; empty when `from` encodes after `to`.
    fn range(&self, from: &K, to: &K) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        // `BTreeMap::range` keeps no reference to its bounds, so the scratch buffer is free
        // again as soon as the iterator is built.
        let range = self.keys.with_pair(from, to, |from, to| {
            (from <= to).then(|| self.map.range::<[u8], _>((Bound::Included(from), Bound::Included(to))))
        });
        Box::new(range.into_iter().flatten().map(|(_, (k, v))| (k.clone(), v.clone())))
    }

    fn all(&self) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        Box::new(self.map.values().map(|(k, v)| (k.clone(), v.clone())))
    }

    fn approximate_len(&self) -> usize {
        self.map.len()
    }
}
