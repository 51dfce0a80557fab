//! Sliding window aggregation (rules 3, 8 and 11 of the semantics; differences D2 and D5).

use std::collections::HashSet;

use crate::processor::ops::aggregate::Fold;
use crate::processor::{Processor, ProcessorContext};
use crate::record::{Change, Record, Timestamped};
use crate::serdes::Data;
use crate::state::WindowStore;
use crate::task::{lock, StoreRef};
use crate::time::{Timestamp, Window, Windowed};
use crate::Result;

/// Aggregates each record into the sliding windows `[s, s + d]` (both ends inclusive) of its
/// key that contain it, creating the windows a record opens: its left window `[ts - d, ts]`
/// (`[0, d]` for `ts < d`), the right window `[p + 1, p + d + 1]` of the key's previous record
/// `p` when the record falls in it, and its own right window `[ts + 1, ts + d + 1]` when a
/// later record of the key already falls in that.
///
/// Windows are found by key in the store (whose retention keeps every window a record can
/// still reach), so another key's progress never hides one (D2); a window both the previous
/// record's right window and the record's left window is emitted once (D5). Emission order
/// is Kafka Streams': existing windows holding the record by descending start, then the
/// previous record's right window, the left window, and the record's own right window (for
/// `ts < d`: existing right windows by ascending start, the record's right window, the
/// previous record's right window, then `[0, d]`).
///
/// Records with a null key or value are skipped (`null-key-or-value`); a record is dropped
/// whole (`late`) when `ts + d < st - grace`, and a single window is emitted only while
/// `end >= st - grace` (else counted as `late`). Closed windows are still kept up to date in
/// the store (within its retention), so a record whose windows are all closed is still found
/// as the previous record of a later one; Kafka Streams loses such a record and then misses
/// the open window `[p + 1, p + d + 1]` it leaves.
pub(crate) struct SlidingAggregate<K, V, A> {
    store: StoreRef<dyn WindowStore<K, Timestamped<A>>>,
    fold: Fold<K, V, A>,
    diff_ms: i64,
    grace_ms: i64,
    observed: i64,
}

/// What a window is updated from.
enum Base<A> {
    /// The window exists with this aggregate.
    Existing(Timestamped<A>),
    /// The window is created from this aggregate (`None`: from the initial aggregate).
    New(Option<A>),
}

/// The state of one record being processed.
struct Step<'r, K, V> {
    record: &'r Record<K, V>,
    ts: i64,
    close: i64,
}

impl<K, V, A> SlidingAggregate<K, V, A> {
    pub(crate) fn new(
        store: StoreRef<dyn WindowStore<K, Timestamped<A>>>,
        fold: Fold<K, V, A>,
        diff_ms: i64,
        grace_ms: i64,
    ) -> Self {
        SlidingAggregate { store, fold, diff_ms, grace_ms, observed: i64::MIN }
    }
}

impl<K: Data, V: Data, A: Clone + Send + 'static> SlidingAggregate<K, V, A> {
    /// Adds the record to the window starting at `start`; emits the window if it is still
    /// open, else counts it as `late`. A closed window is still kept up to date in the store:
    /// later records of the key find their previous record and their base aggregates in it.
    fn apply(
        &self,
        step: &Step<'_, K, V>,
        start: i64,
        base: Base<A>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    ) -> Result<()> {
        let (prior, old, timestamp) = match base {
            Base::Existing(agg) => (Some(agg.value.clone()), Some(agg.value), agg.timestamp.as_millis().max(step.ts)),
            Base::New(prior) => (prior, None, step.ts),
        };
        let key = &step.record.key;
        let new = (self.fold)(key, step.record.value.clone(), prior);
        lock(&self.store).put(key, Timestamp(start), Timestamped::new(new.clone(), Timestamp(timestamp)));
        if start + self.diff_ms < step.close {
            ctx.record_dropped("late");
            return Ok(());
        }
        self.emit(step, start, Change::new(Some(new), old), timestamp, ctx)
    }

    fn emit(
        &self,
        step: &Step<'_, K, V>,
        start: i64,
        change: Change<A>,
        timestamp: i64,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    ) -> Result<()> {
        let key = Windowed { key: step.record.key.clone(), window: Window::new(start, start + self.diff_ms) };
        let headers = step.record.headers.clone();
        ctx.forward(Record { key, value: change, timestamp: Timestamp(timestamp), headers })
    }

    /// Creates the record's own right window from the later records' aggregate `later`.
    fn create_right(
        &self,
        step: &Step<'_, K, V>,
        later: Timestamped<A>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    ) -> Result<()> {
        let start = step.ts + 1;
        lock(&self.store).put(&step.record.key, Timestamp(start), later.clone());
        self.emit(step, start, Change::new(Some(later.value), None), later.timestamp.as_millis(), ctx)
    }

    fn process_regular(
        &self,
        step: &Step<'_, K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    ) -> Result<()> {
        let (ts, d) = (step.ts, self.diff_ms);
        let from = Timestamp((ts - 2 * d).max(0));
        let found = lock(&self.store).fetch_range(&step.record.key, from, Timestamp(ts + 1));
        let mut starts = HashSet::new();
        let (mut later, mut earlier, mut prev) = (None::<Timestamped<A>>, None::<Timestamped<A>>, None::<i64>);
        let (mut left_exists, mut right_exists) = (false, false);
        for (start, agg) in found.into_iter().rev() {
            let start = start.as_millis();
            starts.insert(start);
            let end = start + d;
            if start == ts + 1 {
                right_exists = true;
            } else if end > ts {
                if later.is_none() {
                    later = Some(agg.clone());
                }
                self.apply(step, start, Base::Existing(agg), ctx)?;
            } else if end == ts {
                left_exists = true;
                let newest = agg.timestamp.as_millis();
                self.apply(step, start, Base::Existing(agg), ctx)?;
                if newest >= ts {
                    // A record at `ts` came before: every window it opens exists.
                    return Ok(());
                }
                prev = Some(newest);
            } else {
                prev = Some(agg.timestamp.as_millis());
                earlier = Some(agg);
                break;
            }
        }
        if let Some(p) = prev {
            let start = p + 1;
            if !starts.contains(&start) && start + d >= ts {
                self.apply(step, start, Base::New(None), ctx)?;
                // D5: that window may be the record's left window; emit it once.
                left_exists |= start == ts - d;
            }
        }
        if !left_exists {
            let prior = earlier.filter(|_| prev.is_some_and(|p| p >= ts - d)).map(|e| e.value);
            self.apply(step, ts - d, Base::New(prior), ctx)?;
        }
        match later.filter(|l| l.timestamp.as_millis() > ts) {
            Some(later) if !right_exists => self.create_right(step, later, ctx),
            _ => Ok(()),
        }
    }

    /// A record with `ts < d`: its left window is `[0, d]`.
    fn process_early(
        &self,
        step: &Step<'_, K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    ) -> Result<()> {
        let ts = step.ts;
        let found = lock(&self.store).fetch_range(&step.record.key, Timestamp(0), Timestamp(ts + 1));
        let mut starts = HashSet::new();
        let (mut combined, mut later, mut prev) = (None::<Timestamped<A>>, None::<Timestamped<A>>, None::<i64>);
        let mut right_exists = false;
        for (start, agg) in found {
            let start = start.as_millis();
            starts.insert(start);
            if start == 0 {
                if agg.timestamp.as_millis() < ts {
                    prev = Some(agg.timestamp.as_millis());
                }
                combined = Some(agg);
            } else if start <= ts {
                later = Some(agg.clone());
                self.apply(step, start, Base::Existing(agg), ctx)?;
            } else {
                right_exists = true;
            }
        }
        let later = later.or_else(|| combined.clone()).filter(|l| l.timestamp.as_millis() > ts);
        if let Some(later) = later.filter(|_| !right_exists) {
            self.create_right(step, later, ctx)?;
        }
        if let Some(p) = prev.filter(|p| !starts.contains(&(p + 1))) {
            self.apply(step, p + 1, Base::New(None), ctx)?;
        }
        match combined {
            Some(agg) => self.apply(step, 0, Base::Existing(agg), ctx),
            None => self.apply(step, 0, Base::New(None), ctx),
        }
    }
}

impl<K: Data, V: Data, A: Clone + Send + 'static> Processor<K, V, Windowed<K>, Change<A>>
    for SlidingAggregate<K, V, A>
{
    fn process(&mut self, record: Record<K, V>, ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>) -> Result<()> {
        if record.key.is_null() || record.value.is_null() {
            ctx.record_dropped("null-key-or-value");
            return Ok(());
        }
        let ts = record.timestamp.as_millis();
        self.observed = self.observed.max(ts);
        let close = self.observed.saturating_sub(self.grace_ms);
        if ts.saturating_add(self.diff_ms) < close {
            ctx.record_dropped("late");
            return Ok(());
        }
        let step = Step { record: &record, ts, close };
        if ts < self.diff_ms {
            self.process_early(&step, ctx)
        } else {
            self.process_regular(&step, ctx)
        }
    }
}
