//! Time-segmented entries, shared by the in-memory window and session stores.
//!
//! Entries are addressed by key bytes and a pair `(time, sub)`: `(start, insertion number)` in
//! a window store, `(end, start)` in a session store. Segment `id` holds the entries with
//! `time.div_euclid(interval) == id`, so expired time is freed a whole segment at a time.

use std::collections::BTreeMap;

/// The segment interval Kafka Streams uses: half the retention, at least one minute.
pub(crate) fn segment_interval(retention_ms: i64) -> i64 {
    (retention_ms / 2).max(60_000)
}

/// The address of an entry within a key: `(time, sub)`.
pub(crate) type At = (i64, i64);

pub(crate) struct Segments<K, V> {
    interval: i64,
    segments: BTreeMap<i64, BTreeMap<Vec<u8>, KeyEntries<K, V>>>,
}

struct KeyEntries<K, V> {
    key: K,
    entries: BTreeMap<At, V>,
}

impl<K: Clone, V> Segments<K, V> {
    pub(crate) fn new(interval: i64) -> Self {
        assert!(interval > 0, "segment interval must be positive (this is a bug in streamz)");
        Segments { interval, segments: BTreeMap::new() }
    }

    fn id(&self, time: i64) -> i64 {
        time.div_euclid(self.interval)
    }

    /// Inserts or replaces the entry of `bytes` at `at`.
    pub(crate) fn insert(&mut self, bytes: &[u8], key: &K, at: At, value: V) {
        let id = self.id(at.0);
        let segment = self.segments.entry(id).or_default();
        match segment.get_mut(bytes) {
            Some(e) => {
                e.entries.insert(at, value);
            }
            None => {
                let entries = BTreeMap::from([(at, value)]);
                segment.insert(bytes.to_vec(), KeyEntries { key: key.clone(), entries });
            }
        }
    }

    /// Entries of `bytes` with `from <= time <= to`, by `(time, sub)`.
    pub(crate) fn range<'a>(&'a self, bytes: &'a [u8], from: i64, to: i64) -> impl Iterator<Item = (At, &'a V)> + 'a {
        (from <= to)
            .then(|| self.segments.range(self.id(from)..=self.id(to)))
            .into_iter()
            .flatten()
            .filter_map(move |(_, segment)| segment.get(bytes))
            .flat_map(move |e| e.entries.range((from, i64::MIN)..=(to, i64::MAX)))
            .map(|(at, v)| (*at, v))
    }

    /// Entries of all keys with `from <= time <= to`, by key bytes then `(time, sub)`.
    pub(crate) fn all(&self, from: i64, to: i64) -> Vec<(&K, At, &V)> {
        let mut out: Vec<(&[u8], &K, At, &V)> = Vec::new();
        if from > to {
            return Vec::new();
        }
        for segment in self.segments.range(self.id(from)..=self.id(to)).map(|(_, s)| s) {
            for (bytes, e) in segment {
                let entries = e.entries.range((from, i64::MIN)..=(to, i64::MAX));
                out.extend(entries.map(|(at, v)| (bytes.as_slice(), &e.key, *at, v)));
            }
        }
        // Segments were visited in time order, so a stable sort by key keeps time order.
        out.sort_by(|a, b| a.0.cmp(b.0));
        out.into_iter().map(|(_, k, at, v)| (k, at, v)).collect()
    }

    /// Removes the entries of `bytes` at `time` with `subs.0 <= sub <= subs.1`.
    pub(crate) fn remove(&mut self, bytes: &[u8], time: i64, subs: (i64, i64)) {
        let id = self.id(time);
        let Some(segment) = self.segments.get_mut(&id) else {
            return;
        };
        let Some(e) = segment.get_mut(bytes) else {
            return;
        };
        while let Some(at) = e.entries.range((time, subs.0)..=(time, subs.1)).next().map(|(at, _)| *at) {
            e.entries.remove(&at);
        }
        if e.entries.is_empty() {
            segment.remove(bytes);
            if segment.is_empty() {
                self.segments.remove(&id);
            }
        }
    }

    /// Drops every segment whose times are all before `min_live`.
    pub(crate) fn drop_before(&mut self, min_live: i64) {
        // Called on every put: popping whole segments does not allocate, unlike `split_off`.
        let live = self.id(min_live);
        while let Some(oldest) = self.segments.first_entry() {
            if *oldest.key() >= live {
                break;
            }
            oldest.remove();
        }
    }

    /// The number of entries held.
    pub(crate) fn len(&self) -> usize {
        self.segments.values().flat_map(|s| s.values()).map(|e| e.entries.len()).sum()
    }

    /// The number of segments held.
    pub(crate) fn segment_count(&self) -> usize {
        self.segments.len()
    }
}
