//! Materializing a table from a topic (or a stream): each record updates its key.

use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::KeyValueStore;
use crate::task::{lock, StoreRef};
use crate::Result;

/// Puts each record into the table's store (a null value deletes the key) and emits the
/// change from the old value. Records with a null key are skipped and counted.
pub(crate) struct TableSource<K, V> {
    pub(crate) store: StoreRef<dyn KeyValueStore<K, Timestamped<V>>>,
}

impl<K: Data, V: Data> Processor<K, Option<V>, K, Change<V>> for TableSource<K, V> {
    fn process(&mut self, record: Record<K, Option<V>>, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        if record.key.is_null() {
            ctx.record_dropped("null-key");
            return Ok(());
        }
        let old = {
            let mut store = lock(&self.store);
            match &record.value {
                Some(v) => {
                    let old = store.get(&record.key);
                    store.put(&record.key, Timestamped::new(v.clone(), record.timestamp));
                    old
                }
                None => store.delete(&record.key),
            }
        };
        let change = Change::new(record.value, old.map(|o| o.value));
        ctx.forward(Record { key: record.key, value: change, timestamp: record.timestamp, headers: record.headers })
    }
}
