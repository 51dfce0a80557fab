//! Windowed stream-stream joins (inner, left, outer): one processor per input side.
//!
//! Both processors of a task share the join's stores: the windowed buffers of both sides, the
//! held (still unmatched) records of the outer sides, and the join's stream time `st` (the
//! largest timestamp either side has seen). A record at `ts` matches the other side's records
//! in `[ts - before, ts + after]` (seen from that side) whose own window plus grace has not
//! closed in `st`. An unmatched record of an outer side is held; its null-join is emitted by
//! the first record reaching the join after its window plus grace closed, in order of
//! (timestamp, key bytes, left before right), and never if a match came first.

use std::sync::Arc;

use crate::processor::{Processor, ProcessorContext};
use crate::record::{Headers, Record};
use crate::serdes::{Data, SerdeRef};
use crate::state::{KeyValueStore, WindowStore};
use crate::task::{lock, StoreRef};
use crate::time::Timestamp;
use crate::Result;

/// The key of the single entry of the join's time store.
pub(crate) const TIME_KEY: i32 = 0;

/// Joins a record of this side with one of the other side.
pub(crate) type PairJoiner<V, VO, VR> = Arc<dyn Fn(&V, &VO) -> VR + Send + Sync>;
/// Joins an unmatched record with null.
pub(crate) type NullJoiner<V, VR> = Arc<dyn Fn(&V) -> VR + Send + Sync>;

/// The window as one side sees it: how far before and after a record of this side the other
/// side's records may be, and the grace.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SideWindow {
    pub(crate) before: i64,
    pub(crate) after: i64,
    pub(crate) grace: i64,
}

impl SideWindow {
    /// Whether a record of this side at `ts` is closed (can match nothing more) at `st`.
    fn this_closed(&self, ts: i64, st: i64) -> bool {
        ts.saturating_add(self.after).saturating_add(self.grace) < st
    }

    /// Whether a record of the other side at `ts` is closed at `st`.
    fn other_closed(&self, ts: i64, st: i64) -> bool {
        ts.saturating_add(self.before).saturating_add(self.grace) < st
    }
}

/// One side of a stream-stream join.
pub(crate) struct StreamStreamJoin<K, V, VO, VR> {
    pub(crate) window: SideWindow,
    /// Whether this is the left input (orders held records of equal time and key).
    pub(crate) is_left: bool,
    pub(crate) key_serde: SerdeRef<K>,
    pub(crate) joiner: PairJoiner<V, VO, VR>,
    /// Null-join of this side's records (left join: left side; outer: both).
    pub(crate) this_null: Option<NullJoiner<V, VR>>,
    /// Null-join of the other side's records.
    pub(crate) other_null: Option<NullJoiner<VO, VR>>,
    pub(crate) this_window: StoreRef<dyn WindowStore<K, V>>,
    pub(crate) other_window: StoreRef<dyn WindowStore<K, VO>>,
    pub(crate) this_held: Option<StoreRef<dyn WindowStore<K, V>>>,
    pub(crate) other_held: Option<StoreRef<dyn WindowStore<K, VO>>>,
    pub(crate) time: StoreRef<dyn KeyValueStore<i32, i64>>,
}

/// A held record whose window closed, ready for its null-join.
struct Closed<K, V, VO> {
    ts: i64,
    key_bytes: Vec<u8>,
    left: bool,
    key: K,
    value: Result<V, VO>,
}

impl<K: Data, V: Data, VO: Data, VR: Data> StreamStreamJoin<K, V, VO, VR> {
    /// Advances the shared stream time to `ts`; returns it.
    fn advance(&self, ts: i64) -> i64 {
        let mut time = lock(&self.time);
        let st = time.get(&TIME_KEY).map_or(ts, |st| st.max(ts));
        time.put(&TIME_KEY, st);
        st
    }

    fn key_bytes(&self, key: &K) -> Vec<u8> {
        let mut out = Vec::new();
        // Only orders records: a key the serde cannot write sorts first.
        let _ = self.key_serde.serialize(key, &mut out);
        out
    }

    /// Takes the held records of `store` that are closed at `st` out of it.
    fn take_closed<T: Clone + 'static>(
        &self,
        store: &StoreRef<dyn WindowStore<K, T>>,
        closed: impl Fn(i64) -> bool,
        left: bool,
        wrap: impl Fn(T) -> Result<V, VO>,
        out: &mut Vec<Closed<K, V, VO>>,
    ) {
        let mut store = lock(store);
        let entries = store.fetch_all(Timestamp::MIN, Timestamp::MAX);
        let mut removed: Vec<(K, Timestamp)> = Vec::new();
        for (key, start, value) in entries.into_iter().filter(|(_, s, _)| closed(s.as_millis())) {
            removed.push((key.clone(), start));
            let key_bytes = self.key_bytes(&key);
            out.push(Closed { ts: start.as_millis(), key_bytes, left, key, value: wrap(value) });
        }
        for (key, start) in removed {
            store.remove(&key, start);
        }
    }

    /// Emits the null-joins of every held record closed at `st`.
    fn emit_closed(&self, st: i64, headers: &Headers, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<()> {
        let w = self.window;
        let mut closed = Vec::new();
        if let Some(held) = &self.this_held {
            self.take_closed(held, |ts| w.this_closed(ts, st), self.is_left, Ok, &mut closed);
        }
        if let Some(held) = &self.other_held {
            self.take_closed(held, |ts| w.other_closed(ts, st), !self.is_left, Err, &mut closed);
        }
        closed.sort_by(|a, b| (a.ts, &a.key_bytes, !a.left).cmp(&(b.ts, &b.key_bytes, !b.left)));
        for c in closed {
            let value = match (&c.value, &self.this_null, &self.other_null) {
                (Ok(v), Some(f), _) => f(v),
                (Err(vo), _, Some(f)) => f(vo),
                _ => continue,
            };
            ctx.forward(Record { key: c.key, value, timestamp: Timestamp(c.ts), headers: headers.clone() })?;
        }
        Ok(())
    }
}

impl<K: Data, V: Data, VO: Data, VR: Data> Processor<K, V, K, VR> for StreamStreamJoin<K, V, VO, VR> {
    fn process(&mut self, record: Record<K, V>, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<()> {
        let ts = record.timestamp.as_millis();
        let st = self.advance(ts);
        self.emit_closed(st, &record.headers, ctx)?;
        if record.value.is_null() {
            ctx.record_dropped("null-key-or-value");
            return Ok(());
        }
        if record.key.is_null() {
            return match &self.this_null {
                Some(f) => {
                    let value = f(&record.value);
                    ctx.forward(record.with_value(value))
                }
                None => {
                    ctx.record_dropped("null-key-or-value");
                    Ok(())
                }
            };
        }
        let w = self.window;
        let matches: Vec<(Timestamp, VO)> = {
            let other = lock(&self.other_window);
            let from = Timestamp(ts.saturating_sub(w.before));
            let to = Timestamp(ts.saturating_add(w.after));
            other
                .fetch_range(&record.key, from, to)
                .into_iter()
                .filter(|(t, _)| !w.other_closed(t.as_millis(), st))
                .collect()
        };
        if let Some(held) = &self.other_held {
            let mut held = lock(held);
            let mut last = None;
            for (t, _) in &matches {
                if last != Some(*t) {
                    held.remove(&record.key, *t);
                    last = Some(*t);
                }
            }
        }
        let this_closed = w.this_closed(ts, st);
        if !this_closed {
            lock(&self.this_window).put(&record.key, record.timestamp, record.value.clone());
        }
        if matches.is_empty() {
            if let Some(held) = &self.this_held {
                lock(held).put(&record.key, record.timestamp, record.value.clone());
            }
        }
        for (t, other) in matches {
            let value = (self.joiner)(&record.value, &other);
            let timestamp = record.timestamp.max(t);
            ctx.forward(Record { key: record.key.clone(), value, timestamp, headers: record.headers.clone() })?;
        }
        Ok(())
    }
}
