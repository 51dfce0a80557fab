//! Scheduled punctuations of a task.

use std::sync::{Arc, Mutex};

use crate::processor::{Punctuate, PunctuationType, Punctuator};
use crate::time::{millis, Timestamp};

use super::{lock, TaskContext};
use crate::Result;

struct Schedule {
    next: i64,
    interval: i64,
    punctuator: Punctuator,
    node: Arc<Mutex<dyn Punctuate>>,
}

/// The punctuations of one clock, fired in registration order.
#[derive(Default)]
pub(crate) struct PunctuationQueue {
    schedules: Vec<Schedule>,
}

impl std::fmt::Debug for PunctuationQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PunctuationQueue").field("schedules", &self.schedules.len()).finish()
    }
}

impl PunctuationQueue {
    /// Adds a punctuation first due at `first`.
    pub(crate) fn add(
        &mut self,
        first: Timestamp,
        interval: std::time::Duration,
        punctuator: Punctuator,
        node: Arc<Mutex<dyn Punctuate>>,
    ) {
        self.schedules.push(Schedule { next: first.0, interval: millis(interval).max(1), punctuator, node });
    }

    /// Fires every punctuation due at `now` once, with time `now`, and schedules its next
    /// firing at the first multiple of its interval (from its alignment) after `now`.
    pub(crate) fn fire(&mut self, now: Timestamp, task: &mut TaskContext) -> Result<bool> {
        let mut fired = false;
        for s in &mut self.schedules {
            if s.next > now.0 {
                continue;
            }
            let missed = (now.0 - s.next) / s.interval;
            s.next += (missed + 1) * s.interval;
            lock(&s.node).punctuate(s.punctuator, now, task)?;
            fired = true;
        }
        Ok(fired)
    }

    /// Whether any punctuation is scheduled.
    pub(crate) fn is_empty(&self) -> bool {
        self.schedules.is_empty()
    }
}

/// Where a punctuation of `kind` registered at wall-clock `now` first fires.
pub(crate) fn first_due(kind: PunctuationType, interval: std::time::Duration, now: Timestamp) -> Timestamp {
    match kind {
        PunctuationType::StreamTime => Timestamp(0),
        PunctuationType::WallClockTime => now + interval,
    }
}
