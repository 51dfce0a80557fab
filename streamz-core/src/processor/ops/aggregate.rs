//! Non-windowed aggregation of a grouped stream: count, reduce, aggregate.

use std::sync::Arc;

use crate::processor::ops::cached::{forward_kv, KvLink};
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::KeyValueStore;
use crate::task::{lock, StoreRef};
use crate::Result;

/// Folds a value into the key's aggregate; `None` when the key has none yet.
pub(crate) type Fold<K, V, A> = Arc<dyn Fn(&K, V, Option<A>) -> A + Send + Sync>;

/// Aggregates each key's records into its store entry and emits the change.
///
/// Records with a null key or a null value are skipped and counted (rule 8). The result's
/// timestamp is the largest of the record's and the aggregate's previous timestamp.
///
/// With a cached store (`cache`), changes are emitted when the cache flushes them (at a commit
/// or an eviction), one per key, instead of at each record.
pub(crate) struct StreamAggregate<K, V, A> {
    pub(crate) store: StoreRef<dyn KeyValueStore<K, Timestamped<A>>>,
    pub(crate) fold: Fold<K, V, A>,
    pub(crate) cache: Option<KvLink<K, A>>,
}

impl<K: Data, V: Data, A: Clone + Send + 'static> Processor<K, V, K, Change<A>> for StreamAggregate<K, V, A> {
    fn process(&mut self, record: Record<K, V>, ctx: &mut ProcessorContext<'_, K, Change<A>>) -> Result<()> {
        if record.key.is_null() || record.value.is_null() {
            ctx.record_dropped("null-key-or-value");
            return Ok(());
        }
        let (new, timestamp, old) = {
            let mut store = lock(&self.store);
            if let Some(link) = &self.cache {
                link.set_context(record.timestamp, &record.headers);
            }
            let old = store.get(&record.key);
            let timestamp = old.as_ref().map_or(record.timestamp, |o| o.timestamp.max(record.timestamp));
            let old = old.map(|o| o.value);
            let new = (self.fold)(&record.key, record.value, old.clone());
            store.put(&record.key, Timestamped::new(new.clone(), timestamp));
            (new, timestamp, old)
        };
        match &self.cache {
            Some(link) => forward_kv(link, ctx),
            None => {
                let value = Change::new(Some(new), old);
                ctx.forward(Record { key: record.key, value, timestamp, headers: record.headers })
            }
        }
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<A>>) -> Result<()> {
        let Some(link) = &self.cache else { return Ok(()) };
        lock(&self.store).flush()?;
        forward_kv(link, ctx)
    }
}
