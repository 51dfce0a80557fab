//! The state a task shares with its processors.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use super::{Metrics, RecordCollector};
use crate::error::{RecordPosition, StreamsError};
use crate::time::Timestamp;
use crate::Result;

/// A task: sub-topology `subtopology`, input partition `partition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    /// The sub-topology.
    pub subtopology: u32,
    /// The input partition.
    pub partition: i32,
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.subtopology, self.partition)
    }
}

/// A store shared by the processors of a task (and read by queries).
pub type StoreRef<S> = Arc<Mutex<Box<S>>>;

/// What to do with a record whose extracted timestamp is negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimestampPolicy {
    /// Stop with [`StreamsError::InvalidTimestamp`] naming topic, partition and offset.
    #[default]
    Fail,
    /// Drop the record and count it under `dropped-records.invalid-timestamp`.
    SkipAndCount,
    /// Use the largest valid timestamp seen on the record's partition (the partition time);
    /// drop and count the record if there is none yet.
    UsePartitionTime,
}

/// A store as a task holds it: the typed handle (a [`StoreRef`]) and how to flush it.
#[derive(Clone)]
pub(crate) struct StoreEntry {
    pub(crate) typed: Arc<dyn Any + Send + Sync>,
    pub(crate) flush: Arc<dyn Fn() -> Result<()> + Send + Sync>,
}

impl StoreEntry {
    /// The entry of `store`.
    pub(crate) fn new<S>(store: StoreRef<S>) -> Self
    where
        S: ?Sized + crate::state::StateStore,
    {
        let flushed = store.clone();
        StoreEntry { typed: Arc::new(store), flush: Arc::new(move || super::lock(&flushed).flush()) }
    }
}

/// The state of one task that its processors can see.
pub struct TaskContext {
    pub(crate) task_id: TaskId,
    pub(crate) app_id: Arc<str>,
    pub(crate) stream_time: Timestamp,
    pub(crate) wall_clock: Timestamp,
    pub(crate) position: RecordPosition,
    pub(crate) collector: Box<dyn RecordCollector>,
    pub(crate) stores: HashMap<String, StoreEntry>,
    pub(crate) metrics: Arc<Metrics>,
}

impl fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskContext")
            .field("task_id", &self.task_id)
            .field("stream_time", &self.stream_time)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl TaskContext {
    pub(crate) fn new(
        task_id: TaskId,
        app_id: Arc<str>,
        collector: Box<dyn RecordCollector>,
        metrics: Arc<Metrics>,
        wall_clock: Timestamp,
    ) -> Self {
        TaskContext {
            task_id,
            app_id,
            stream_time: Timestamp::MIN,
            wall_clock,
            position: RecordPosition::default(),
            collector,
            stores: HashMap::new(),
            metrics,
        }
    }

    /// The typed handle of store `name`.
    pub(crate) fn store<S: ?Sized + 'static>(&self, name: &str) -> Result<StoreRef<S>> {
        let entry = self.stores.get(name).ok_or_else(|| StreamsError::State {
            store: name.to_string(),
            message: format!(
                "task {} has no such store (is it connected to this processor's sub-topology?)",
                self.task_id
            ),
        })?;
        entry.typed.downcast_ref::<StoreRef<S>>().cloned().ok_or_else(|| StreamsError::State {
            store: name.to_string(),
            message: format!(
                "the store's key, value or kind differs from the requested `{}`",
                std::any::type_name::<S>()
            ),
        })
    }

    /// Registers store `name` for this task.
    pub(crate) fn add_store(&mut self, name: &str, entry: StoreEntry) {
        self.stores.insert(name.to_string(), entry);
    }

    /// Flushes every store.
    pub(crate) fn flush_stores(&self) -> Result<()> {
        self.stores.values().try_for_each(|s| (s.flush)())
    }
}
