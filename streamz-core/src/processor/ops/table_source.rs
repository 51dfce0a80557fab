//! Materializing a table from a topic (or a stream): each record updates its key.

use crate::processor::ops::cached::{forward_kv, KvLink};
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::KeyValueStore;
use crate::task::{lock, StoreRef};
use crate::Result;

/// Puts each record into the table's store (a null value deletes the key) and emits the
/// change from the old value. Records with a null key are skipped and counted.
///
/// With a cached store (`cache`), changes are emitted when the cache flushes them (at a commit
/// or an eviction), one per key, instead of at each record.
pub(crate) struct TableSource<K, V> {
    pub(crate) store: StoreRef<dyn KeyValueStore<K, Timestamped<V>>>,
    pub(crate) cache: Option<KvLink<K, V>>,
}

impl<K: Data, V: Data> Processor<K, Option<V>, K, Change<V>> for TableSource<K, V> {
    fn process(&mut self, record: Record<K, Option<V>>, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        if record.key.is_null() {
            ctx.record_dropped("null-key");
            return Ok(());
        }
        let old = {
            let mut store = lock(&self.store);
            if let Some(link) = &self.cache {
                link.set_context(record.timestamp, &record.headers);
            }
            match &record.value {
                Some(v) => {
                    let old = store.get(&record.key);
                    store.put(&record.key, Timestamped::new(v.clone(), record.timestamp));
                    old
                }
                None => store.delete(&record.key),
            }
        };
        if let Some(link) = &self.cache {
            return forward_kv(link, ctx);
        }
        let change = Change::new(record.value, old.map(|o| o.value));
        ctx.forward(Record { key: record.key, value: change, timestamp: record.timestamp, headers: record.headers })
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        let Some(link) = &self.cache else { return Ok(()) };
        lock(&self.store).flush()?;
        forward_kv(link, ctx)
    }
}
