//! Materializing a table that has no store (e.g. a filtered or mapped one) for lookups.

use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::KeyValueStore;
use crate::task::{lock, StoreRef};
use crate::Result;

/// Writes each change into the store (a delete removes the key) and passes it on unchanged.
pub(crate) struct MaterializeTable<K, V> {
    pub(crate) store: StoreRef<dyn KeyValueStore<K, Timestamped<V>>>,
}

impl<K: Data, V: Data> Processor<K, Change<V>, K, Change<V>> for MaterializeTable<K, V> {
    fn process(&mut self, record: Record<K, Change<V>>, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        if !record.key.is_null() {
            let mut store = lock(&self.store);
            match &record.value.new {
                Some(v) => store.put(&record.key, Timestamped::new(v.clone(), record.timestamp)),
                None => {
                    store.delete(&record.key);
                }
            }
        }
        ctx.forward(record)
    }
}
