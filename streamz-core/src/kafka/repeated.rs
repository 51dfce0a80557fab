//! Warnings that repeat for as long as a condition lasts (a broker down, a partition without a
//! leader): one line when it starts, then at most one per interval saying how many were left
//! out, and one when it is over; not one line per retry.

use std::fmt;
use std::time::{Duration, Instant};

/// One kind of repeated warning and where it stands.
#[derive(Debug)]
pub(crate) struct RepeatedWarning {
    what: &'static str,
    every: Duration,
    /// When the current run of warnings started, and when one was last logged.
    since: Option<(Instant, Instant)>,
    /// Warnings of the current run not logged since the last one that was.
    left_out: u64,
}

impl RepeatedWarning {
    /// How often a warning that keeps repeating is logged again, by default.
    pub(crate) const EVERY: Duration = Duration::from_secs(30);

    /// Warnings saying `what`, logged again at most every `every`.
    pub(crate) fn new(what: &'static str, every: Duration) -> Self {
        RepeatedWarning { what, every, since: None, left_out: 0 }
    }

    /// One more occurrence, with its error; returns whether it was logged.
    pub(crate) fn warn(&mut self, error: &dyn fmt::Display) -> bool {
        let now = Instant::now();
        match &mut self.since {
            None => {
                self.since = Some((now, now));
                tracing::warn!(error = %error, "{}", self.what);
                true
            }
            Some((started, logged)) if now.duration_since(*logged) >= self.every => {
                *logged = now;
                let (left_out, lasting) = (std::mem::take(&mut self.left_out), now.duration_since(*started));
                tracing::warn!(error = %error, left_out, ?lasting, "{} (still)", self.what);
                true
            }
            Some(_) => {
                self.left_out += 1;
                false
            }
        }
    }

    /// The condition is over: logs so once if warnings were given; returns whether it did.
    pub(crate) fn over(&mut self) -> bool {
        let Some((started, _)) = self.since.take() else { return false };
        let left_out = std::mem::take(&mut self.left_out);
        tracing::info!(lasted = ?started.elapsed(), left_out, "{}: over", self.what);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_warnings_logs_its_first_then_one_per_interval_then_its_end() {
        let mut w = RepeatedWarning::new("consumer error, retrying", Duration::from_millis(200));
        assert!(w.warn(&"broker down"), "the first is logged");
        assert!(!w.warn(&"broker down") && !w.warn(&"broker down"), "repeats within the interval are not");
        assert_eq!(w.left_out, 2);
        std::thread::sleep(Duration::from_millis(220));
        assert!(w.warn(&"broker down"), "one per interval is");
        assert_eq!(w.left_out, 0, "and it counts those left out");
        assert!(!w.warn(&"broker down"));
        assert!(w.over(), "the end of the run is logged");
        assert!(!w.over(), "once");
        assert!(w.warn(&"broker down again"), "a new run starts with a logged warning");
    }
}
