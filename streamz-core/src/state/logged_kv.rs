//! A key-value store whose writes also go to its changelog.

use std::sync::{Arc, Mutex};

use super::changelog::{decode, ChangeLogger};
use super::{KeyValueStore, StateStore};
use crate::error::RecordPart;
use crate::serdes::SerdeRef;
use crate::task::{lock, StoreEntry, StoreRef};

/// Logs every `put` (key bytes → value bytes) and `delete` (key bytes → tombstone) of the
/// store it wraps; reads go straight to it.
pub(crate) struct LoggedKeyValueStore<K, V> {
    inner: Box<dyn KeyValueStore<K, V>>,
    logger: ChangeLogger,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
}

impl<K, V> std::fmt::Debug for LoggedKeyValueStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedKeyValueStore").field("inner", &self.inner).field("topic", self.logger.topic()).finish()
    }
}

super::delegate_state_store!(LoggedKeyValueStore);

impl<K: Send + 'static, V: Send + 'static> KeyValueStore<K, V> for LoggedKeyValueStore<K, V> {
    fn get(&self, key: &K) -> Option<V> {
        self.inner.get(key)
    }

    fn put(&mut self, key: &K, value: V) {
        self.logger.log(|k, v| {
            self.key_serde.serialize(key, k).map_err(|e| (RecordPart::Key, e))?;
            self.value_serde.serialize(&value, v).map_err(|e| (RecordPart::Value, e))
        });
        self.inner.put(key, value);
    }

    fn delete(&mut self, key: &K) -> Option<V> {
        self.logger.log(|k, _| {
            self.key_serde.serialize(key, k).map_err(|e| (RecordPart::Key, e))?;
            Ok(false)
        });
        self.inner.delete(key)
    }

    fn range(&self, from: &K, to: &K) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        self.inner.range(from, to)
    }

    fn all(&self) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        self.inner.all()
    }

    fn approximate_len(&self) -> usize {
        self.inner.approximate_len()
    }
}

/// The task's entry of `inner` logged through `logger`: a record of the changelog restores
/// as its bytes when `inner` takes them ([`StateStore::restore_bytes`]), else as a `put` of
/// the decoded value, a tombstone as a `delete`.
pub(crate) fn logged_key_value_store<K: Send + 'static, V: Send + 'static>(
    inner: Box<dyn KeyValueStore<K, V>>,
    logger: ChangeLogger,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
) -> StoreEntry {
    let name = inner.name().to_string();
    let topic = logger.topic().clone();
    let store = LoggedKeyValueStore { inner, logger: logger.clone(), key_serde: key_serde.clone(), value_serde };
    let value_serde = store.value_serde.clone();
    let store: StoreRef<dyn KeyValueStore<K, V>> = Arc::new(Mutex::new(Box::new(store)));
    let restored = store.clone();
    let restore_topic = topic.clone();
    let restore = move |key: &[u8], value: Option<&[u8]>| {
        let mut store = lock(&restored);
        if store.restore_bytes(key, value)? {
            return Ok(());
        }
        let key = decode(&name, &restore_topic, RecordPart::Key, || key_serde.deserialize(Some(key)))?;
        let value =
            value.map(|v| decode(&name, &restore_topic, RecordPart::Value, || value_serde.deserialize(Some(v))));
        let value = value.transpose()?;
        logger.restoring(|| match value {
            Some(v) => store.put(&key, v),
            None => {
                store.delete(&key);
            }
        });
        Ok(())
    };
    StoreEntry::logged(store, topic, Arc::new(restore))
}
