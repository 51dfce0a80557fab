//! Session window aggregation (rules 4, 8 and 11 of the semantics; difference D1).

use std::sync::Arc;

use crate::processor::ops::aggregate::Fold;
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::SessionStore;
use crate::task::{lock, StoreRef};
use crate::time::{Timestamp, Window, Windowed};
use crate::Result;

/// Merges a session's aggregate into the aggregate of the sessions merged before it (`None`
/// before the first).
pub(crate) type Merge<K, A> = Arc<dyn Fn(&K, Option<A>, A) -> A + Send + Sync>;

/// Aggregates each record into its key's session: every session of the key with
/// `end >= ts - gap` and `start <= ts + gap` that is not closed (`end >= st - grace - gap`)
/// is merged with the record, in `(end, start)` order (D1: found by key, never hidden by the
/// store's retention).
///
/// The merged session is dropped as `late` when `merged.end < st - grace - gap`. Otherwise,
/// unless the merged session is exactly `[ts, ts]`, each merged session is deleted downstream
/// (a tombstone at its own end) before the merged session is emitted at `merged.end`. Records
/// with a null key are skipped (`null-key`); null values are aggregated.
pub(crate) struct SessionAggregate<K, V, A> {
    store: StoreRef<dyn SessionStore<K, Timestamped<A>>>,
    fold: Fold<K, V, A>,
    merge: Merge<K, A>,
    gap_ms: i64,
    grace_ms: i64,
    observed: i64,
}

impl<K, V, A> SessionAggregate<K, V, A> {
    pub(crate) fn new(
        store: StoreRef<dyn SessionStore<K, Timestamped<A>>>,
        fold: Fold<K, V, A>,
        merge: Merge<K, A>,
        gap_ms: i64,
        grace_ms: i64,
    ) -> Self {
        SessionAggregate { store, fold, merge, gap_ms, grace_ms, observed: i64::MIN }
    }
}

impl<K: Data, V: Data, A: Clone + Send + 'static> Processor<K, V, Windowed<K>, Change<A>>
    for SessionAggregate<K, V, A>
{
    fn process(&mut self, record: Record<K, V>, ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>) -> Result<()> {
        if record.key.is_null() {
            ctx.record_dropped("null-key");
            return Ok(());
        }
        let ts = record.timestamp.as_millis();
        self.observed = self.observed.max(ts);
        let close = self.observed.saturating_sub(self.grace_ms).saturating_sub(self.gap_ms);
        let (earliest_end, latest_start) = (ts.saturating_sub(self.gap_ms), ts.saturating_add(self.gap_ms));
        let found: Vec<(Window, Timestamped<A>)> = {
            let store = lock(&self.store);
            let sessions = store.find_sessions(&record.key, Timestamp(earliest_end), Timestamp(latest_start));
            sessions.into_iter().filter(|(w, _)| w.end.as_millis() >= close).collect()
        };
        let mut merged = Window::new(ts, ts);
        let mut acc = None;
        for (window, agg) in &found {
            merged = Window { start: merged.start.min(window.start), end: merged.end.max(window.end) };
            acc = Some((self.merge)(&record.key, acc, agg.value.clone()));
        }
        if merged.end.as_millis() < close {
            ctx.record_dropped("late");
            return Ok(());
        }
        if merged != Window::new(ts, ts) {
            for (window, agg) in found {
                lock(&self.store).remove(&record.key, window);
                let key = Windowed { key: record.key.clone(), window };
                let change = Change::new(None, Some(agg.value));
                ctx.forward(Record { key, value: change, timestamp: window.end, headers: record.headers.clone() })?;
            }
        }
        let new = (self.fold)(&record.key, record.value, acc);
        lock(&self.store).put(&record.key, merged, Timestamped::new(new.clone(), merged.end));
        let key = Windowed { key: record.key, window: merged };
        ctx.forward(Record { key, value: Change::new(Some(new), None), timestamp: merged.end, headers: record.headers })
    }
}
