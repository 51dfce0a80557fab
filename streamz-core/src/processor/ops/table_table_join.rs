//! Table-table joins (inner, left, outer): one processor per input side; both trigger.

use std::sync::Arc;

use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::KeyValueStore;
use crate::task::{lock, StoreRef};
use crate::Result;

/// The joined row of this side's and the other side's value (`None`: no row), oriented for one
/// side: inner rows need both values, left rows the left one, outer rows either.
pub(crate) type RowJoiner<V, VO, VR> = Arc<dyn Fn(Option<&V>, Option<&VO>) -> Option<VR> + Send + Sync>;

/// One side of a table-table join: joins each change of this side with the other side's
/// current value.
///
/// Emits `Change(row(new, other), row(old, other))` whenever either row exists, and a
/// tombstone for every delete while the other side has a value; nothing when both are empty.
/// This gives rule 15's delete behaviour for every join kind. The timestamp is the larger of
/// the update's and the other side's value's, or the update's when the other side is empty.
pub(crate) struct TableTableJoin<K, V, VO, VR> {
    pub(crate) other: StoreRef<dyn KeyValueStore<K, Timestamped<VO>>>,
    pub(crate) row: RowJoiner<V, VO, VR>,
}

impl<K: Data, V: Data, VO: Data, VR: Data> Processor<K, Change<V>, K, Change<VR>> for TableTableJoin<K, V, VO, VR> {
    fn process(&mut self, record: Record<K, Change<V>>, ctx: &mut ProcessorContext<'_, K, Change<VR>>) -> Result<()> {
        if record.key.is_null() {
            ctx.record_dropped("null-key");
            return Ok(());
        }
        let other = lock(&self.other).get(&record.key);
        let other_value = other.as_ref().map(|o| &o.value);
        let new = (self.row)(record.value.new.as_ref(), other_value);
        let old = (self.row)(record.value.old.as_ref(), other_value);
        let delete_with_other = record.value.new.is_none() && other.is_some();
        if new.is_none() && old.is_none() && !delete_with_other {
            return Ok(());
        }
        let timestamp = other.as_ref().map_or(record.timestamp, |o| o.timestamp.max(record.timestamp));
        ctx.forward(Record { key: record.key, value: Change::new(new, old), timestamp, headers: record.headers })
    }
}
