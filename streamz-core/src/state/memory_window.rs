//! An in-memory window store, segmented by window start.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use super::key_buf::KeyBuf;
use super::segments::{segment_interval, Segments};
use super::{StateStore, WindowStore};
use crate::serdes::SerdeRef;
use crate::time::{millis, Timestamp};

/// A [`WindowStore`] held in memory.
///
/// Entries live in time segments of `max(retention / 2, 60 s)` by window start, as in Kafka
/// Streams. The store tracks its *observed stream time*: the largest window start put so far.
/// An entry is **expired** when `start <= observed - retention` (equivalently
/// `start < observed - retention + 1`):
///
/// - a put of an expired entry is ignored;
/// - fetches never return expired entries, even while their segment is still held;
/// - a put drops every segment whose newest possible start is expired.
///
/// So a retention of zero keeps nothing. With `retain_duplicates`, every put adds an entry
/// (stream-stream join buffers hold several records per key and time); entries of one key and
/// start are returned in insertion order.
///
/// # Panics
///
/// Every operation that takes a key panics if the key serde fails or returns null for it.
///
/// # Examples
///
/// ```
/// # use std::sync::Arc;
/// # use streamz_core::error::SerdeError;
/// # use streamz_core::serdes::Serde;
/// # struct Utf8;
/// # impl Serde<String> for Utf8 {
/// #     fn name(&self) -> &'static str { "utf-8" }
/// #     fn serialize(&self, v: &String, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
/// #         out.extend_from_slice(v.as_bytes());
/// #         Ok(true)
/// #     }
/// #     fn deserialize(&self, b: Option<&[u8]>) -> Result<String, SerdeError> {
/// #         Ok(String::from_utf8_lossy(b.unwrap_or_default()).into_owned())
/// #     }
/// # }
/// use std::time::Duration;
/// use streamz_core::state::{InMemoryWindowStore, WindowStore};
/// use streamz_core::Timestamp;
///
/// let (retention, size) = (Duration::from_secs(60), Duration::from_secs(10));
/// let mut store = InMemoryWindowStore::<String, u64>::new("counts", Arc::new(Utf8), retention, size, false);
/// let alice = "alice".to_string();
/// store.put(&alice, Timestamp(0), 1);
/// store.put(&alice, Timestamp(10_000), 2);
/// store.put(&alice, Timestamp(10_000), 3); // replaces
/// assert_eq!(store.fetch_range(&alice, Timestamp(0), Timestamp(10_000)), [(Timestamp(0), 1), (Timestamp(10_000), 3)]);
///
/// store.put(&alice, Timestamp(60_000), 4); // window 0 is now expired: 0 <= 60_000 - 60_000
/// assert_eq!(store.fetch(&alice, Timestamp(0)), None);
/// ```
pub struct InMemoryWindowStore<K, V> {
    keys: KeyBuf<K>,
    retention_ms: i64,
    window_size_ms: i64,
    retain_duplicates: bool,
    observed: i64,
    next_seq: i64,
    segments: Segments<K, V>,
}

impl<K: Clone + 'static, V> InMemoryWindowStore<K, V> {
    /// An empty store named `name`, keeping windows for `retention` after the observed stream
    /// time; `window_size` is informational. With `retain_duplicates` every put adds an entry.
    pub fn new(
        name: impl Into<String>,
        key_serde: SerdeRef<K>,
        retention: Duration,
        window_size: Duration,
        retain_duplicates: bool,
    ) -> Self {
        let retention_ms = millis(retention);
        InMemoryWindowStore {
            keys: KeyBuf::new(name.into(), key_serde),
            retention_ms,
            window_size_ms: millis(window_size),
            retain_duplicates,
            observed: i64::MIN,
            next_seq: 0,
            segments: Segments::new(segment_interval(retention_ms)),
        }
    }

    /// The window size in milliseconds, as given at construction.
    pub fn window_size_ms(&self) -> i64 {
        self.window_size_ms
    }

    /// Whether every put adds an entry.
    pub fn retains_duplicates(&self) -> bool {
        self.retain_duplicates
    }

    /// The largest window start put so far ([`Timestamp::MIN`] before the first put).
    pub fn observed_stream_time(&self) -> Timestamp {
        Timestamp(self.observed)
    }

    /// The number of entries held, counting expired ones whose segment is not yet dropped.
    /// Takes time linear in the number of keys.
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Whether the store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of time segments held.
    pub fn segment_count(&self) -> usize {
        self.segments.segment_count()
    }

    /// The smallest start that is not expired.
    fn min_live(&self) -> i64 {
        if self.observed == i64::MIN {
            i64::MIN
        } else {
            self.observed.saturating_sub(self.retention_ms).saturating_add(1)
        }
    }
}

impl<K, V> fmt::Debug for InMemoryWindowStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryWindowStore")
            .field("name", &self.keys.store())
            .field("retention_ms", &self.retention_ms)
            .field("retain_duplicates", &self.retain_duplicates)
            .field("observed", &self.observed)
            .finish_non_exhaustive()
    }
}

impl<K, V> StateStore for InMemoryWindowStore<K, V>
where
    K: Send + 'static,
    V: Send + 'static,
{
    fn name(&self) -> &str {
        self.keys.store()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<K, V> WindowStore<K, V> for InMemoryWindowStore<K, V>
where
    K: Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    fn put(&mut self, key: &K, start: Timestamp, value: V) {
        let start = start.as_millis();
        self.observed = self.observed.max(start);
        let min_live = self.min_live();
        if start < min_live {
            return;
        }
        self.segments.drop_before(min_live);
        let seq = if self.retain_duplicates {
            self.next_seq += 1;
            self.next_seq
        } else {
            0
        };
        let segments = &mut self.segments;
        self.keys.with(key, |bytes| segments.insert(bytes, key, (start, seq), value));
    }

    /// With duplicates retained, the first entry put at `start`.
    fn fetch(&self, key: &K, start: Timestamp) -> Option<V> {
        let start = start.as_millis();
        if start < self.min_live() {
            return None;
        }
        self.keys.with(key, |bytes| self.segments.range(bytes, start, start).next().map(|(_, v)| v.clone()))
    }

    fn fetch_range(&self, key: &K, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, V)> {
        let from = from.as_millis().max(self.min_live());
        self.keys.with(key, |bytes| {
            let entries = self.segments.range(bytes, from, to.as_millis());
            entries.map(|((start, _), v)| (Timestamp(start), v.clone())).collect()
        })
    }

    fn fetch_all(&self, from: Timestamp, to: Timestamp) -> Vec<(K, Timestamp, V)> {
        let from = from.as_millis().max(self.min_live());
        let entries = self.segments.all(from, to.as_millis());
        entries.into_iter().map(|(k, (start, _), v)| (k.clone(), Timestamp(start), v.clone())).collect()
    }

    fn remove(&mut self, key: &K, start: Timestamp) {
        let segments = &mut self.segments;
        let start = start.as_millis();
        self.keys.with(key, |bytes| segments.remove(bytes, start, (i64::MIN, i64::MAX)));
    }

    fn retention_ms(&self) -> i64 {
        self.retention_ms
    }
}
