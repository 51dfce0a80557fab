//! The second half of `Table::group_by`: aggregating the group updates of the repartition
//! topic with an adder and a subtractor.

use std::sync::Arc;

use super::table_group_map::GroupUpdate;
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::KeyValueStore;
use crate::task::{lock, StoreRef};
use crate::Result;

/// Adds a value to a group's aggregate; `None` when the group has none yet.
pub(crate) type Adder<K, V, A> = Arc<dyn Fn(&K, V, Option<A>) -> A + Send + Sync>;
/// Removes a value from a group's aggregate.
pub(crate) type Subtractor<K, V, A> = Arc<dyn Fn(&K, V, A) -> A + Send + Sync>;

/// Applies each group update to the group's aggregate and emits one change per update.
///
/// The subtracted value is removed first (only from an existing aggregate), then the added
/// value is added; the aggregate is kept (and emitted) even when only a subtraction happened.
/// The result's timestamp is the record's, or the larger of it and the aggregate's previous
/// timestamp when the group had an aggregate (rule 11).
pub(crate) struct TableAggregate<K, V, A> {
    pub(crate) store: StoreRef<dyn KeyValueStore<K, Timestamped<A>>>,
    pub(crate) add: Adder<K, V, A>,
    pub(crate) subtract: Subtractor<K, V, A>,
}

impl<K: Data, V: Data, A: Data> Processor<K, GroupUpdate<V>, K, Change<A>> for TableAggregate<K, V, A> {
    fn process(
        &mut self,
        record: Record<K, GroupUpdate<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<A>>,
    ) -> Result<()> {
        if record.key.is_null() {
            ctx.record_dropped("null-key");
            return Ok(());
        }
        let (added, subtracted) = record.value;
        let (new, old, timestamp) = {
            let mut store = lock(&self.store);
            let previous = store.get(&record.key);
            let timestamp = previous.as_ref().map_or(record.timestamp, |p| p.timestamp.max(record.timestamp));
            let old = previous.map(|p| p.value);
            let mut agg = old.clone();
            if let Some(value) = subtracted {
                agg = agg.map(|current| (self.subtract)(&record.key, value, current));
            }
            if let Some(value) = added {
                agg = Some((self.add)(&record.key, value, agg));
            }
            match &agg {
                Some(a) => store.put(&record.key, Timestamped::new(a.clone(), timestamp)),
                None => {
                    store.delete(&record.key);
                }
            }
            (agg, old, timestamp)
        };
        ctx.forward(Record { key: record.key, value: Change::new(new, old), timestamp, headers: record.headers })
    }
}
