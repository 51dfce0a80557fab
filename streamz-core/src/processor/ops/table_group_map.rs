//! The first half of `Table::group_by`: maps each table update to the groups it leaves and
//! joins, before the repartition topic.

use std::sync::Arc;

use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record};
use crate::serdes::{Data, SerdeRef};
use crate::Result;

/// Maps a table entry to its group key and the value aggregated in that group.
pub(crate) type GroupMapFn<K, V, K2, V2> = Arc<dyn Fn(&K, &V) -> (K2, V2) + Send + Sync>;

/// An update of one group, as it crosses the repartition topic: `(added, subtracted)`.
///
/// When an update keeps its group, both travel in one record (so the aggregation applies
/// them together and emits one result, rule 9). When the group changes, the old group gets
/// `(None, Some(old))` first, then the new group `(Some(new), None)`. Each record is keyed by
/// its group, so the repartition topic is partitioned by group.
pub(crate) type GroupUpdate<V> = (Option<V>, Option<V>);

/// Maps the new and the old value of each update with `f` and forwards the group updates.
/// Pairs with a null group key or a null value are skipped and counted, as are updates with
/// neither value.
pub(crate) struct TableGroupMap<K, V, K2, V2> {
    pub(crate) f: GroupMapFn<K, V, K2, V2>,
    pub(crate) key_serde: SerdeRef<K2>,
    pub(crate) new_buf: Vec<u8>,
    pub(crate) old_buf: Vec<u8>,
}

impl<K, V, K2, V2> TableGroupMap<K, V, K2, V2> {
    pub(crate) fn new(f: GroupMapFn<K, V, K2, V2>, key_serde: SerdeRef<K2>) -> Self {
        TableGroupMap { f, key_serde, new_buf: Vec::new(), old_buf: Vec::new() }
    }
}

impl<K: Data, V: Data, K2: Data, V2: Data> TableGroupMap<K, V, K2, V2> {
    fn pair(&self, key: &K, value: Option<V>) -> Option<(K2, V2)> {
        let (k2, v2) = (self.f)(key, &value?);
        (!k2.is_null() && !v2.is_null()).then_some((k2, v2))
    }

    /// Whether two group keys are the same group: equal bytes in the repartition topic.
    fn same_group(&mut self, a: &K2, b: &K2) -> bool {
        self.new_buf.clear();
        self.old_buf.clear();
        let a = self.key_serde.serialize(a, &mut self.new_buf);
        let b = self.key_serde.serialize(b, &mut self.old_buf);
        matches!((a, b), (Ok(true), Ok(true)) if self.new_buf == self.old_buf)
    }
}

impl<K: Data, V: Data, K2: Data, V2: Data> Processor<K, Change<V>, K2, GroupUpdate<V2>>
    for TableGroupMap<K, V, K2, V2>
{
    fn process(
        &mut self,
        record: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K2, GroupUpdate<V2>>,
    ) -> Result<()> {
        let had_value = record.value.new.is_some() || record.value.old.is_some();
        let new = self.pair(&record.key, record.value.new);
        let old = self.pair(&record.key, record.value.old);
        let (timestamp, headers) = (record.timestamp, record.headers);
        let out = |key, value, headers| Record { key, value, timestamp, headers };
        match (new, old) {
            (Some((nk, nv)), Some((ok, ov))) if self.same_group(&nk, &ok) => {
                ctx.forward(out(nk, (Some(nv), Some(ov)), headers))
            }
            (new, old) => {
                if new.is_none() && old.is_none() {
                    if had_value {
                        ctx.record_dropped("null-group-key-or-value");
                    }
                    return Ok(());
                }
                if let Some((ok, ov)) = old {
                    ctx.forward(out(ok, (None, Some(ov)), headers.clone()))?;
                }
                match new {
                    Some((nk, nv)) => ctx.forward(out(nk, (Some(nv), None), headers)),
                    None => Ok(()),
                }
            }
        }
    }
}
