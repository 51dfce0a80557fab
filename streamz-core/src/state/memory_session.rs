//! An in-memory session store, segmented by session end.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use super::key_buf::KeyBuf;
use super::segments::{segment_interval, Segments};
use super::{SessionStore, StateStore};
use crate::serdes::SerdeRef;
use crate::time::{millis, Timestamp, Window};

/// A [`SessionStore`] held in memory.
///
/// Sessions live in time segments of `max(retention / 2, 60 s)` by session end. The store
/// tracks its *observed stream time*: the largest session end put so far. A session is
/// **expired** when `end < observed - retention`; a session ending exactly at
/// `observed - retention` is still found, so a session operator whose retention is
/// `gap + grace` finds every session it may still merge (`end >= st - gap - grace`).
///
/// - a put of an expired session is ignored;
/// - finds and fetches never return expired sessions, even while their segment is held;
/// - a put drops every segment whose newest possible end is expired.
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
/// use streamz_core::state::{InMemorySessionStore, SessionStore};
/// use streamz_core::{Timestamp, Window};
///
/// let mut store = InMemorySessionStore::<String, u64>::new("clicks", Arc::new(Utf8), Duration::from_secs(60));
/// let bob = "bob".to_string();
/// store.put(&bob, Window::new(0, 5_000), 3);
/// store.put(&bob, Window::new(20_000, 20_000), 1);
/// // A record at 8_000 with a gap of 5_000 merges sessions ending at or after 3_000 and
/// // starting at or before 13_000.
/// let found = store.find_sessions(&bob, Timestamp(3_000), Timestamp(13_000));
/// assert_eq!(found, [(Window::new(0, 5_000), 3)]);
/// ```
pub struct InMemorySessionStore<K, V> {
    keys: KeyBuf<K>,
    retention_ms: i64,
    observed: i64,
    segments: Segments<K, V>,
}

impl<K: Clone + 'static, V> InMemorySessionStore<K, V> {
    /// An empty store named `name`, keeping sessions for `retention` after the observed
    /// stream time.
    pub fn new(name: impl Into<String>, key_serde: SerdeRef<K>, retention: Duration) -> Self {
        let retention_ms = millis(retention);
        InMemorySessionStore {
            keys: KeyBuf::new(name.into(), key_serde),
            retention_ms,
            observed: i64::MIN,
            segments: Segments::new(segment_interval(retention_ms)),
        }
    }

    /// The largest session end put so far ([`Timestamp::MIN`] before the first put).
    pub fn observed_stream_time(&self) -> Timestamp {
        Timestamp(self.observed)
    }

    /// The number of sessions held, counting expired ones whose segment is not yet dropped.
    /// Takes time linear in the number of keys.
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Whether the store holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of time segments held.
    pub fn segment_count(&self) -> usize {
        self.segments.segment_count()
    }

    /// The smallest end that is not expired.
    fn min_live(&self) -> i64 {
        self.observed.saturating_sub(self.retention_ms)
    }

    fn live(&self, key: &K, earliest_end: i64, latest_start: i64) -> Vec<(Window, V)>
    where
        V: Clone,
    {
        let from = earliest_end.max(self.min_live());
        self.keys.with(key, |bytes| {
            let sessions = self.segments.range(bytes, from, i64::MAX);
            let sessions = sessions.filter(|((_, start), _)| *start <= latest_start);
            sessions.map(|((end, start), v)| (Window::new(start, end), v.clone())).collect()
        })
    }
}

impl<K, V> fmt::Debug for InMemorySessionStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemorySessionStore")
            .field("name", &self.keys.store())
            .field("retention_ms", &self.retention_ms)
            .field("observed", &self.observed)
            .finish_non_exhaustive()
    }
}

impl<K, V> StateStore for InMemorySessionStore<K, V>
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

impl<K, V> SessionStore<K, V> for InMemorySessionStore<K, V>
where
    K: Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    fn find_sessions(&self, key: &K, earliest_end: Timestamp, latest_start: Timestamp) -> Vec<(Window, V)> {
        self.live(key, earliest_end.as_millis(), latest_start.as_millis())
    }

    fn put(&mut self, key: &K, window: Window, value: V) {
        let (start, end) = (window.start.as_millis(), window.end.as_millis());
        self.observed = self.observed.max(end);
        let min_live = self.min_live();
        if end < min_live {
            return;
        }
        self.segments.drop_before(min_live);
        let segments = &mut self.segments;
        self.keys.with(key, |bytes| segments.insert(bytes, key, (end, start), value));
    }

    fn remove(&mut self, key: &K, window: Window) {
        let (start, end) = (window.start.as_millis(), window.end.as_millis());
        let segments = &mut self.segments;
        self.keys.with(key, |bytes| segments.remove(bytes, end, (start, start)));
    }

    fn fetch(&self, key: &K) -> Vec<(Window, V)> {
        self.live(key, i64::MIN, i64::MAX)
    }

    fn retention_ms(&self) -> i64 {
        self.retention_ms
    }
}
