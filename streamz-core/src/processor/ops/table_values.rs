//! Per-value table operators (`filter`, `filter_not`, `map_values`): each update's new and
//! old value go through the same function.

use std::sync::Arc;

use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::KeyValueStore;
use crate::task::{lock, StoreRef};
use crate::Result;

/// Computes a table's value from its parent's; `None` makes the key absent (filtered out).
pub(crate) type ValueFn<K, V, V2> = Arc<dyn Fn(&K, V) -> Option<V2> + Send + Sync>;

/// Applies `f` to the new and the old value of each update and forwards the change, always
/// (rule 10): a new value that is null or that `f` drops is a tombstone, even when the old
/// value was dropped too. When materialized, the result is put into (or deleted from) `store`.
pub(crate) struct TableValues<K, V, V2> {
    pub(crate) f: ValueFn<K, V, V2>,
    pub(crate) store: Option<StoreRef<dyn KeyValueStore<K, Timestamped<V2>>>>,
}

impl<K: Data, V: Data, V2: Data> Processor<K, Change<V>, K, Change<V2>> for TableValues<K, V, V2> {
    fn process(&mut self, record: Record<K, Change<V>>, ctx: &mut ProcessorContext<'_, K, Change<V2>>) -> Result<()> {
        let Change { new, old } = record.value;
        let new = new.and_then(|v| (self.f)(&record.key, v));
        let old = match &self.store {
            Some(store) => {
                let mut store = lock(store);
                let old = store.get(&record.key).map(|o| o.value);
                match &new {
                    Some(v) => store.put(&record.key, Timestamped::new(v.clone(), record.timestamp)),
                    None => {
                        store.delete(&record.key);
                    }
                }
                old
            }
            None => old.and_then(|v| (self.f)(&record.key, v)),
        };
        let change = Change::new(new, old);
        ctx.forward(Record { key: record.key, value: change, timestamp: record.timestamp, headers: record.headers })
    }
}
