//! Stream-table and stream-global-table joins: only the stream side triggers; it reads the
//! table's current value from the table's store.

use std::sync::Arc;

use crate::processor::{Processor, ProcessorContext};
use crate::record::{Record, Timestamped};
use crate::serdes::Data;
use crate::state::KeyValueStore;
use crate::task::{lock, StoreRef};
use crate::Result;

/// Computes the table key of a stream record.
pub(crate) type Lookup<K, V, LK> = Arc<dyn Fn(&K, &V) -> LK + Send + Sync>;
/// Joins a stream value with the table's value (`None`: no row); `None` emits nothing.
pub(crate) type LookupJoiner<V, VT, VR> = Arc<dyn Fn(&V, Option<&VT>) -> Option<VR> + Send + Sync>;

/// Joins each stream record with the current table value of `lookup(key, value)`, at the
/// stream record's timestamp. Null values are dropped; a null lookup key finds no row (for a
/// table join the stream key itself is the lookup key, so a null stream key finds none); when
/// that leaves nothing to emit the record is counted as dropped.
pub(crate) struct StreamTableJoin<K, V, LK, VT, VR> {
    pub(crate) store: StoreRef<dyn KeyValueStore<LK, Timestamped<VT>>>,
    pub(crate) lookup: Lookup<K, V, LK>,
    pub(crate) joiner: LookupJoiner<V, VT, VR>,
    /// Whether the stream key is the lookup key (a table join), so a null key finds no row.
    pub(crate) by_key: bool,
}

impl<K: Data, V: Data, LK: Data, VT: Data, VR: Data> Processor<K, V, K, VR> for StreamTableJoin<K, V, LK, VT, VR> {
    fn process(&mut self, record: Record<K, V>, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<()> {
        if record.value.is_null() {
            ctx.record_dropped("null-key-or-value");
            return Ok(());
        }
        let lookup_key = match self.by_key && record.key.is_null() {
            true => None,
            false => Some((self.lookup)(&record.key, &record.value)).filter(|k| !k.is_null()),
        };
        let row = lookup_key.as_ref().and_then(|k| lock(&self.store).get(k)).map(|t| t.value);
        match (self.joiner)(&record.value, row.as_ref()) {
            Some(value) => ctx.forward(record.with_value(value)),
            None if lookup_key.is_none() => {
                ctx.record_dropped("null-key-or-value");
                Ok(())
            }
            None => Ok(()),
        }
    }
}
