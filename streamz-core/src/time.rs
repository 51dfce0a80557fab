//! Event time: the [`Timestamp`] newtype and window bounds.

use std::fmt;
use std::time::Duration;

/// A point in event time or wall-clock time, in milliseconds since the Unix epoch.
///
/// Kafka record timestamps are milliseconds; so are all times in streamz. Negative timestamps
/// are invalid input (see the timestamp policy of the runtime).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use streamz_core::Timestamp;
///
/// let t = Timestamp::from_millis(1_000);
/// assert_eq!(t + Duration::from_secs(2), Timestamp::from_millis(3_000));
/// assert_eq!(t.as_millis(), 1_000);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The smallest timestamp; stream time before any record has been seen.
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    /// The largest timestamp.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// A timestamp `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(since.as_millis() as i64)
    }

    /// `self + d`, saturating at [`Timestamp::MAX`].
    pub fn saturating_add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(millis(d)))
    }

    /// `self - d`, saturating at [`Timestamp::MIN`].
    pub fn saturating_sub(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(millis(d)))
    }
}

/// A duration in whole milliseconds, saturating at `i64::MAX`.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Duration) -> Timestamp {
        self.saturating_add(d)
    }
}

impl std::ops::Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: Duration) -> Timestamp {
        self.saturating_sub(d)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<i64> for Timestamp {
    fn from(ms: i64) -> Self {
        Timestamp(ms)
    }
}

/// A window of event time: `[start, end)` for time windows, `[start, end]` (both inclusive) for
/// sliding and session windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    /// The window's first timestamp (inclusive).
    pub start: Timestamp,
    /// The window's end: exclusive for tumbling/hopping windows, inclusive for sliding and
    /// session windows.
    pub end: Timestamp,
}

impl Window {
    /// A window from `start` to `end` (in milliseconds).
    pub const fn new(start: i64, end: i64) -> Self {
        Window { start: Timestamp(start), end: Timestamp(end) }
    }
}

/// A key of a windowed aggregation: the grouping key and its window.
///
/// Time-window ends are exclusive; sliding and session window ends inclusive.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Windowed<K> {
    /// The grouping key.
    pub key: K,
    /// The window.
    pub window: Window,
}

impl<K> Windowed<K> {
    /// `key` in the window from `start` to `end` (milliseconds).
    pub fn new(key: K, start: i64, end: i64) -> Self {
        Windowed { key, window: Window::new(start, end) }
    }
}
