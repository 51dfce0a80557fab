//! A session store whose writes also go to its changelog.

use std::sync::{Arc, Mutex};

use super::changelog::{be_i64, decode, split_suffix, ChangeLogger};
use super::{SessionStore, StateStore};
use crate::error::RecordPart;
use crate::serdes::SerdeRef;
use crate::task::{lock, StoreEntry, StoreRef};
use crate::time::{Timestamp, Window};

/// Logs every `put` (key bytes ‖ end ‖ start → value bytes, Kafka Streams' session key
/// layout) and `remove` (→ tombstone) of the store it wraps; reads go straight to it.
pub(crate) struct LoggedSessionStore<K, V> {
    inner: Box<dyn SessionStore<K, V>>,
    logger: ChangeLogger,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
}

impl<K, V> std::fmt::Debug for LoggedSessionStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedSessionStore").field("inner", &self.inner).field("topic", self.logger.topic()).finish()
    }
}

impl<K: 'static, V: 'static> LoggedSessionStore<K, V> {
    fn log(&self, key: &K, window: Window, value: Option<&V>) {
        self.logger.log(|k, v| {
            self.key_serde.serialize(key, k).map_err(|e| (RecordPart::Key, e))?;
            k.extend_from_slice(&window.end.as_millis().to_be_bytes());
            k.extend_from_slice(&window.start.as_millis().to_be_bytes());
            match value {
                Some(value) => self.value_serde.serialize(value, v).map_err(|e| (RecordPart::Value, e)),
                None => Ok(false),
            }
        });
    }
}

super::delegate_state_store!(LoggedSessionStore);

impl<K: Send + 'static, V: Send + 'static> SessionStore<K, V> for LoggedSessionStore<K, V> {
    fn find_sessions(&self, key: &K, earliest_end: Timestamp, latest_start: Timestamp) -> Vec<(Window, V)> {
        self.inner.find_sessions(key, earliest_end, latest_start)
    }

    fn put(&mut self, key: &K, window: Window, value: V) {
        self.log(key, window, Some(&value));
        self.inner.put(key, window, value);
    }

    fn remove(&mut self, key: &K, window: Window) {
        self.log(key, window, None);
        self.inner.remove(key, window);
    }

    fn fetch(&self, key: &K) -> Vec<(Window, V)> {
        self.inner.fetch(key)
    }

    fn retention_ms(&self) -> i64 {
        self.inner.retention_ms()
    }
}

/// The task's entry of `inner` logged through `logger`: a record of the changelog restores
/// as a `put` of its session, a tombstone as a `remove`.
pub(crate) fn logged_session_store<K: Send + 'static, V: Send + 'static>(
    inner: Box<dyn SessionStore<K, V>>,
    logger: ChangeLogger,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
) -> StoreEntry {
    let name = inner.name().to_string();
    let topic = logger.topic().clone();
    let store = LoggedSessionStore { inner, logger: logger.clone(), key_serde: key_serde.clone(), value_serde };
    let value_serde = store.value_serde.clone();
    let store: StoreRef<dyn SessionStore<K, V>> = Arc::new(Mutex::new(Box::new(store)));
    let restored = store.clone();
    let restore_topic = topic.clone();
    let restore = move |key: &[u8], value: Option<&[u8]>| {
        let (key_bytes, suffix) = decode(&name, &restore_topic, RecordPart::Key, || split_suffix::<16>(key))?;
        let window = Window { start: Timestamp(be_i64(&suffix, 8)), end: Timestamp(be_i64(&suffix, 0)) };
        let key = decode(&name, &restore_topic, RecordPart::Key, || key_serde.deserialize(Some(key_bytes)))?;
        let value =
            value.map(|v| decode(&name, &restore_topic, RecordPart::Value, || value_serde.deserialize(Some(v))));
        let value = value.transpose()?;
        let mut store = lock(&restored);
        logger.restoring(|| match value {
            Some(v) => store.put(&key, window, v),
            None => store.remove(&key, window),
        });
        Ok(())
    };
    StoreEntry::logged(store, topic, Arc::new(restore))
}
