//! Window definitions: tumbling and hopping ([`TimeWindows`]), [`SlidingWindows`],
//! [`SessionWindows`], and the windows of stream-stream joins ([`JoinWindows`]).

use std::time::Duration;

use crate::error::TopologyError;
use crate::time::millis;

/// Tumbling (`advance == size`) or hopping windows: epoch-aligned, `[start, start + size)`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use streamz_core::dsl::TimeWindows;
///
/// let w = TimeWindows::hopping(Duration::from_secs(60), Duration::from_secs(10)).grace(Duration::from_secs(5));
/// assert_eq!(w.size_ms(), 60_000);
/// assert_eq!(w.advance_ms(), 10_000);
/// assert_eq!(w.grace_ms(), 5_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindows {
    size: Duration,
    advance: Duration,
    grace: Duration,
}

impl TimeWindows {
    /// Tumbling windows of `size`, no grace.
    pub fn tumbling(size: Duration) -> Self {
        TimeWindows { size, advance: size, grace: Duration::ZERO }
    }

    /// Hopping windows of `size` starting every `advance`, no grace.
    pub fn hopping(size: Duration, advance: Duration) -> Self {
        TimeWindows { size, advance, grace: Duration::ZERO }
    }

    /// Accepts records up to `grace` after a window's end.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Window size in ms.
    pub fn size_ms(&self) -> i64 {
        millis(self.size)
    }

    /// Advance in ms.
    pub fn advance_ms(&self) -> i64 {
        millis(self.advance)
    }

    /// Grace in ms.
    pub fn grace_ms(&self) -> i64 {
        millis(self.grace)
    }

    pub(crate) fn validate(&self, operator: &str) -> Result<(), TopologyError> {
        let fail = |reason: &str| {
            Err(TopologyError::InvalidWindow { operator: operator.to_string(), reason: reason.to_string() })
        };
        if self.size.is_zero() {
            return fail("window size must be positive");
        }
        if self.advance.is_zero() {
            return fail("window advance must be positive");
        }
        if self.advance > self.size {
            return fail("window advance must not be larger than the window size");
        }
        Ok(())
    }
}

/// Sliding windows of an aggregation: `[s, s + d]`, both ends inclusive, existing only where a
/// record enters or leaves them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlidingWindows {
    difference: Duration,
    grace: Duration,
}

impl SlidingWindows {
    /// Windows spanning `difference` (the largest time difference of two records in one
    /// window), with `grace` for late records.
    pub fn with_difference_and_grace(difference: Duration, grace: Duration) -> Self {
        SlidingWindows { difference, grace }
    }

    /// The time difference in ms.
    pub fn difference_ms(&self) -> i64 {
        millis(self.difference)
    }

    /// Grace in ms.
    pub fn grace_ms(&self) -> i64 {
        millis(self.grace)
    }

    pub(crate) fn validate(&self, operator: &str) -> Result<(), TopologyError> {
        if self.difference.is_zero() {
            return Err(TopologyError::InvalidWindow {
                operator: operator.to_string(),
                reason: "time difference must be positive".into(),
            });
        }
        Ok(())
    }
}

/// Session windows: a key's records closer than `gap` form one session `[first, last]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionWindows {
    gap: Duration,
    grace: Duration,
}

impl SessionWindows {
    /// Sessions closing after `gap` of inactivity, no grace.
    pub fn with_inactivity_gap(gap: Duration) -> Self {
        SessionWindows { gap, grace: Duration::ZERO }
    }

    /// Accepts records up to `grace` after a session could close.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The inactivity gap in ms.
    pub fn gap_ms(&self) -> i64 {
        millis(self.gap)
    }

    /// Grace in ms.
    pub fn grace_ms(&self) -> i64 {
        millis(self.grace)
    }

    pub(crate) fn validate(&self, operator: &str) -> Result<(), TopologyError> {
        if self.gap.is_zero() {
            return Err(TopologyError::InvalidWindow {
                operator: operator.to_string(),
                reason: "inactivity gap must be positive".into(),
            });
        }
        Ok(())
    }
}

/// The window of a stream-stream join: a left record at `ts` matches right records in
/// `[ts - before, ts + after]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinWindows {
    before: Duration,
    after: Duration,
    grace: Duration,
}

impl JoinWindows {
    /// Records at most `difference` apart join (`before == after == difference`), no grace.
    pub fn of(difference: Duration) -> Self {
        JoinWindows { before: difference, after: difference, grace: Duration::ZERO }
    }

    /// Sets how far before a left record a right record may be.
    pub fn before(mut self, before: Duration) -> Self {
        self.before = before;
        self
    }

    /// Sets how far after a left record a right record may be.
    pub fn after(mut self, after: Duration) -> Self {
        self.after = after;
        self
    }

    /// Accepts out-of-order records up to `grace` after the window closes.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// `before` in ms.
    pub fn before_ms(&self) -> i64 {
        millis(self.before)
    }

    /// `after` in ms.
    pub fn after_ms(&self) -> i64 {
        millis(self.after)
    }

    /// Grace in ms.
    pub fn grace_ms(&self) -> i64 {
        millis(self.grace)
    }

    pub(crate) fn validate(&self, operator: &str) -> Result<(), TopologyError> {
        if self.before_ms() + self.after_ms() < 0 {
            return Err(TopologyError::InvalidWindow {
                operator: operator.to_string(),
                reason: "join window size must not be negative".into(),
            });
        }
        Ok(())
    }
}

/// When windows of a windowed table close, for `suppress(until_window_closes)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WindowClose {
    /// Tumbling/hopping: closed when `end <= st - grace`.
    Time { grace_ms: i64 },
    /// Sliding: closed when `end < st - grace`.
    Sliding { grace_ms: i64 },
    /// Session: closed when `end < st - gap - grace`.
    Session { gap_ms: i64, grace_ms: i64 },
}
