//! A window store whose writes also go to its changelog.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::changelog::{be_i64, decode, split_suffix, ChangeLogger};
use super::{StateStore, WindowStore};
use crate::error::RecordPart;
use crate::serdes::SerdeRef;
use crate::task::{lock, StoreEntry, StoreRef};
use crate::time::Timestamp;

/// Logs every `put` (key bytes ‖ start → value bytes) and `remove` (→ tombstone) of the store
/// it wraps; reads go straight to it.
///
/// With duplicates retained, each put's key also ends with a 4-byte sequence number (1, 2, …,
/// never 0) so that every entry is its own changelog record; a `remove`, which removes every
/// entry of the key at that start, writes a tombstone with sequence number 0.
pub(crate) struct LoggedWindowStore<K, V> {
    inner: Box<dyn WindowStore<K, V>>,
    logger: ChangeLogger,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
    duplicates: bool,
    /// The last sequence number used (shared with the restore, which moves it past those read).
    seq: Arc<AtomicU32>,
}

impl<K, V> std::fmt::Debug for LoggedWindowStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedWindowStore").field("inner", &self.inner).field("topic", self.logger.topic()).finish()
    }
}

impl<K, V> LoggedWindowStore<K, V> {
    fn next_seq(&self) -> u32 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if seq == 0 {
            self.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
        } else {
            seq
        }
    }
}

super::delegate_state_store!(LoggedWindowStore);

impl<K: Send + 'static, V: Send + 'static> WindowStore<K, V> for LoggedWindowStore<K, V> {
    fn put(&mut self, key: &K, start: Timestamp, value: V) {
        // The sequence number is taken only when logging (not while restoring).
        self.logger.log(|k, v| {
            self.key_serde.serialize(key, k).map_err(|e| (RecordPart::Key, e))?;
            k.extend_from_slice(&start.as_millis().to_be_bytes());
            if self.duplicates {
                k.extend_from_slice(&self.next_seq().to_be_bytes());
            }
            self.value_serde.serialize(&value, v).map_err(|e| (RecordPart::Value, e))
        });
        self.inner.put(key, start, value);
    }

    fn fetch(&self, key: &K, start: Timestamp) -> Option<V> {
        self.inner.fetch(key, start)
    }

    fn fetch_range(&self, key: &K, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, V)> {
        self.inner.fetch_range(key, from, to)
    }

    fn fetch_all(&self, from: Timestamp, to: Timestamp) -> Vec<(K, Timestamp, V)> {
        self.inner.fetch_all(from, to)
    }

    fn remove(&mut self, key: &K, start: Timestamp) {
        self.logger.log(|k, _| {
            self.key_serde.serialize(key, k).map_err(|e| (RecordPart::Key, e))?;
            k.extend_from_slice(&start.as_millis().to_be_bytes());
            if self.duplicates {
                k.extend_from_slice(&0u32.to_be_bytes());
            }
            Ok(false)
        });
        self.inner.remove(key, start);
    }

    fn retention_ms(&self) -> i64 {
        self.inner.retention_ms()
    }
}

/// The task's entry of `inner` logged through `logger`: a record of the changelog restores
/// as a `put` at its window start, a tombstone as a `remove`.
pub(crate) fn logged_window_store<K: Send + 'static, V: Send + 'static>(
    inner: Box<dyn WindowStore<K, V>>,
    logger: ChangeLogger,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
    duplicates: bool,
) -> StoreEntry {
    let name = inner.name().to_string();
    let topic = logger.topic().clone();
    let seq = Arc::new(AtomicU32::new(0));
    let store = LoggedWindowStore {
        inner,
        logger: logger.clone(),
        key_serde: key_serde.clone(),
        value_serde: value_serde.clone(),
        duplicates,
        seq: seq.clone(),
    };
    let store: StoreRef<dyn WindowStore<K, V>> = Arc::new(Mutex::new(Box::new(store)));
    let restored = store.clone();
    let restore_topic = topic.clone();
    let restore = move |key: &[u8], value: Option<&[u8]>| {
        let (key_bytes, start, read_seq) = if duplicates {
            let (k, suffix) = decode(&name, &restore_topic, RecordPart::Key, || split_suffix::<12>(key))?;
            (k, be_i64(&suffix, 0), u32::from_be_bytes([suffix[8], suffix[9], suffix[10], suffix[11]]))
        } else {
            let (k, suffix) = decode(&name, &restore_topic, RecordPart::Key, || split_suffix::<8>(key))?;
            (k, be_i64(&suffix, 0), 0)
        };
        let key = decode(&name, &restore_topic, RecordPart::Key, || key_serde.deserialize(Some(key_bytes)))?;
        let value =
            value.map(|v| decode(&name, &restore_topic, RecordPart::Value, || value_serde.deserialize(Some(v))));
        let value = value.transpose()?;
        seq.fetch_max(read_seq, Ordering::Relaxed);
        let mut store = lock(&restored);
        logger.restoring(|| match value {
            Some(v) => store.put(&key, Timestamp(start), v),
            None => store.remove(&key, Timestamp(start)),
        });
        Ok(())
    };
    StoreEntry::logged(store, topic, Arc::new(restore))
}
