//! The context a processor runs in.

use std::time::Duration;

use super::Downstream;
use crate::error::{RecordPosition, StreamsError};
use crate::record::Record;
use crate::state::{KeyValueStore, SessionStore, WindowStore};
use crate::task::{StoreRef, TaskContext, TaskId};
use crate::time::Timestamp;
use crate::Result;

/// Which clock drives a punctuation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PunctuationType {
    /// Fires as stream time (the largest record timestamp a task has seen) passes multiples of
    /// the interval; aligned to multiples of the interval from 0, fires once on the first
    /// record and once (with the current stream time) when stream time jumps several intervals.
    StreamTime,
    /// Fires as wall-clock time passes `registration + k · interval`.
    WallClockTime,
}

/// Identifies one scheduled punctuation of a processor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Punctuator(pub u32);

/// A punctuation requested in `init`, registered by the task after `init` returns.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScheduleRequest {
    pub(crate) punctuator: Punctuator,
    pub(crate) interval: Duration,
    pub(crate) kind: PunctuationType,
}

/// What a processor sees of its task: forwarding to its children, time, the current record's
/// position, stores and punctuation.
pub struct ProcessorContext<'a, K, V> {
    pub(crate) children: &'a mut [Box<dyn Downstream<K, V>>],
    pub(crate) task: &'a mut TaskContext,
    pub(crate) node: &'a str,
    pub(crate) schedules: Option<&'a mut Vec<ScheduleRequest>>,
}

impl<K, V> std::fmt::Debug for ProcessorContext<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessorContext").field("node", &self.node).field("task", &self.task.task_id).finish()
    }
}

impl<K: Clone, V: Clone> ProcessorContext<'_, K, V> {
    /// Sends `record` to every child of this node.
    pub fn forward(&mut self, record: Record<K, V>) -> Result<()> {
        let Some((last, rest)) = self.children.split_last_mut() else {
            return Ok(());
        };
        for child in rest {
            child.accept(record.clone(), self.task)?;
        }
        last.accept(record, self.task)
    }

    /// Sends `record` to the child at `index` (children in the order they were attached).
    pub fn forward_to(&mut self, index: usize, record: Record<K, V>) -> Result<()> {
        match self.children.get_mut(index) {
            Some(child) => child.accept(record, self.task),
            None => Err(StreamsError::Bug(format!("node `{}` has no child {index}", self.node))),
        }
    }
}

impl<K, V> ProcessorContext<'_, K, V> {
    /// The largest record timestamp this task has processed.
    pub fn stream_time(&self) -> Timestamp {
        self.task.stream_time
    }

    /// The task's wall-clock time.
    pub fn wall_clock_time(&self) -> Timestamp {
        self.task.wall_clock
    }

    /// Where the record being processed came from.
    pub fn record_position(&self) -> &RecordPosition {
        &self.task.position
    }

    /// The task running this processor.
    pub fn task_id(&self) -> TaskId {
        self.task.task_id
    }

    /// The application id.
    pub fn application_id(&self) -> &str {
        &self.task.app_id
    }

    /// This node's name.
    pub fn node_name(&self) -> &str {
        self.node
    }

    /// A [`StreamsError::Processing`] naming this node and the current record's position, for
    /// a processor that cannot process a record. Returned from
    /// [`Processor::process`](super::Processor::process), it goes through the application's
    /// processing error policy (fail, log and continue, or dead-letter topic); other errors
    /// (state, Kafka) always stop the task.
    pub fn processing_error(&self, message: impl Into<String>) -> StreamsError {
        StreamsError::Processing {
            node: self.node.to_string(),
            position: self.task.position.clone(),
            message: message.into(),
        }
    }

    /// Counts a record this processor dropped on purpose (late, null key, ...), under
    /// `dropped-records` and `dropped-records.<reason>`.
    pub fn record_dropped(&mut self, reason: &'static str) {
        self.task.metrics.record_dropped(self.node, reason);
    }

    /// Schedules a punctuation; only allowed in [`Processor::init`](super::Processor::init).
    ///
    /// # Errors
    ///
    /// [`StreamsError::Processing`] when called outside `init` or with a zero interval.
    pub fn schedule(&mut self, interval: Duration, kind: PunctuationType) -> Result<Punctuator> {
        let node = self.node.to_string();
        let position = self.task.position.clone();
        let fail = |message: &str| StreamsError::Processing {
            node: node.clone(),
            position: position.clone(),
            message: message.into(),
        };
        if interval.is_zero() {
            return Err(fail("punctuation interval must be positive"));
        }
        let Some(requests) = self.schedules.as_deref_mut() else {
            return Err(fail("punctuations can only be scheduled in init"));
        };
        let punctuator = Punctuator(requests.len() as u32);
        requests.push(ScheduleRequest { punctuator, interval, kind });
        Ok(punctuator)
    }

    /// The key-value store `name` of this task.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`] when there is no such store or its types differ.
    pub fn key_value_store<SK: 'static, SV: 'static>(&self, name: &str) -> Result<StoreRef<dyn KeyValueStore<SK, SV>>> {
        self.task.store(name)
    }

    /// The window store `name` of this task.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`] when there is no such store or its types differ.
    pub fn window_store<SK: 'static, SV: 'static>(&self, name: &str) -> Result<StoreRef<dyn WindowStore<SK, SV>>> {
        self.task.store(name)
    }

    /// The session store `name` of this task.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`] when there is no such store or its types differ.
    pub fn session_store<SK: 'static, SV: 'static>(&self, name: &str) -> Result<StoreRef<dyn SessionStore<SK, SV>>> {
        self.task.store(name)
    }

    /// The task context (for built-in operators).
    pub(crate) fn task_mut(&mut self) -> &mut TaskContext {
        self.task
    }
}
