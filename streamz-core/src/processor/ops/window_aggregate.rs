//! Tumbling and hopping window aggregation (rules 1, 2, 8 and 11 of the semantics).

use crate::processor::ops::aggregate::Fold;
use crate::processor::ops::cached::{forward_windows, WindowLink};
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::WindowStore;
use crate::task::{lock, StoreRef};
use crate::time::{Timestamp, Window, Windowed};
use crate::Result;

/// Aggregates each record into every epoch-aligned window `[start, start + size)` it falls
/// in, by ascending start, and emits each window's change.
///
/// A window is updated only while `end > st - grace` (`st`: the largest timestamp this
/// operator has seen); otherwise that window alone is skipped and counted as `late`. Records
/// with a null key are skipped and counted (`null-key`) without advancing `st`; null values
/// are aggregated. The result's timestamp is `max(ts, window's previous timestamp)`.
pub(crate) struct TimeWindowAggregate<K, V, A> {
    store: StoreRef<dyn WindowStore<K, Timestamped<A>>>,
    fold: Fold<K, V, A>,
    size_ms: i64,
    advance_ms: i64,
    grace_ms: i64,
    observed: i64,
    cache: Option<WindowLink<K, A>>,
}

impl<K, V, A> TimeWindowAggregate<K, V, A> {
    pub(crate) fn new(
        store: StoreRef<dyn WindowStore<K, Timestamped<A>>>,
        fold: Fold<K, V, A>,
        size_ms: i64,
        advance_ms: i64,
        grace_ms: i64,
        cache: Option<WindowLink<K, A>>,
    ) -> Self {
        TimeWindowAggregate { store, fold, size_ms, advance_ms, grace_ms, observed: i64::MIN, cache }
    }
}

/// The starts of the windows holding `ts`: multiples of `advance` in `(ts - size, ts]`, not
/// negative, ascending.
pub(crate) fn window_starts(ts: i64, size: i64, advance: i64) -> impl Iterator<Item = i64> {
    let advance = advance.max(1);
    let lowest = ts.saturating_sub(size).saturating_add(1).max(0);
    let first = lowest.saturating_add(advance - 1) / advance * advance;
    (0..).map(move |i| first + i * advance).take_while(move |s| *s <= ts)
}

impl<K: Data, V: Data, A: Clone + Send + 'static> Processor<K, V, Windowed<K>, Change<A>>
    for TimeWindowAggregate<K, V, A>
{
    fn process(&mut self, record: Record<K, V>, ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>) -> Result<()> {
        if record.key.is_null() {
            ctx.record_dropped("null-key");
            return Ok(());
        }
        let ts = record.timestamp.as_millis();
        self.observed = self.observed.max(ts);
        let close = self.observed.saturating_sub(self.grace_ms);
        for start in window_starts(ts, self.size_ms, self.advance_ms) {
            let end = start.saturating_add(self.size_ms);
            if end <= close {
                ctx.record_dropped("late");
                continue;
            }
            let (new, old, timestamp) = {
                let mut store = lock(&self.store);
                if let Some(link) = &self.cache {
                    link.set_context(record.timestamp, &record.headers);
                }
                let old = store.fetch(&record.key, Timestamp(start));
                let timestamp = old.as_ref().map_or(ts, |o| o.timestamp.as_millis().max(ts));
                let old = old.map(|o| o.value);
                let new = (self.fold)(&record.key, record.value.clone(), old.clone());
                store.put(&record.key, Timestamp(start), Timestamped::new(new.clone(), Timestamp(timestamp)));
                (new, old, timestamp)
            };
            if let Some(link) = &self.cache {
                forward_windows(link, self.size_ms, ctx)?;
                continue;
            }
            let key = Windowed { key: record.key.clone(), window: Window::new(start, end) };
            let headers = record.headers.clone();
            ctx.forward(Record { key, value: Change::new(Some(new), old), timestamp: Timestamp(timestamp), headers })?;
        }
        Ok(())
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>) -> Result<()> {
        let Some(link) = &self.cache else { return Ok(()) };
        lock(&self.store).flush()?;
        forward_windows(link, self.size_ms, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::window_starts;

    #[test]
    fn starts_are_aligned_and_not_negative() {
        assert_eq!(window_starts(12, 10, 5).collect::<Vec<_>>(), [5, 10]);
        assert_eq!(window_starts(10, 10, 5).collect::<Vec<_>>(), [5, 10]);
        assert_eq!(window_starts(9, 10, 5).collect::<Vec<_>>(), [0, 5]);
        assert_eq!(window_starts(3, 10, 5).collect::<Vec<_>>(), [0]);
        assert_eq!(window_starts(7, 10, 10).collect::<Vec<_>>(), [0]);
        assert_eq!(window_starts(20, 10, 3).collect::<Vec<_>>(), [12, 15, 18]);
    }
}
