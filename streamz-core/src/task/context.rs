//! The state a task shares with its processors.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use super::{Metrics, Policies, RecordCollector};
use crate::error::{RecordPosition, StreamsError};
use crate::state::SharedChangelog;
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

/// Applies one changelog record (key bytes, value bytes or a tombstone) to a store.
pub(crate) type RestoreFn = Arc<dyn Fn(&[u8], Option<&[u8]>) -> Result<()> + Send + Sync>;

/// What a task does with each of its stores whatever their type: flush, commit with a
/// checkpoint, read the checkpoint, clear.
pub(crate) trait StoreControl: Send + Sync {
    fn flush(&self) -> Result<()>;
    fn commit(&self, checkpoint: Option<i64>) -> Result<()>;
    fn checkpoint(&self) -> Option<i64>;
    fn clear(&self) -> Result<()>;
}

impl<S: ?Sized + crate::state::StateStore> StoreControl for Mutex<Box<S>> {
    fn flush(&self) -> Result<()> {
        super::lock(self).flush()
    }
    fn commit(&self, checkpoint: Option<i64>) -> Result<()> {
        super::lock(self).commit(checkpoint)
    }
    fn checkpoint(&self) -> Option<i64> {
        super::lock(self).checkpoint()
    }
    fn clear(&self) -> Result<()> {
        super::lock(self).clear()
    }
}

/// A store as a task holds it: the typed handle (a [`StoreRef`]), its untyped controls, and
/// for a logged store its changelog topic and how to apply the topic's records.
#[derive(Clone)]
pub(crate) struct StoreEntry {
    pub(crate) typed: Arc<dyn Any + Send + Sync>,
    pub(crate) control: Arc<dyn StoreControl>,
    pub(crate) changelog: Option<(Arc<str>, RestoreFn)>,
    /// For a cached store, the `Arc<CacheLink<..>>` its operator forwards flushed entries from.
    pub(crate) cache: Option<Arc<dyn Any + Send + Sync>>,
}

impl StoreEntry {
    /// The entry of `store`.
    pub(crate) fn new<S>(store: StoreRef<S>) -> Self
    where
        S: ?Sized + crate::state::StateStore,
    {
        StoreEntry { typed: Arc::new(store.clone()), control: store, changelog: None, cache: None }
    }

    /// The entry with the link of its record cache.
    pub(crate) fn with_cache<A: Send + 'static, V: Send + 'static>(
        mut self,
        link: Arc<crate::state::CacheLink<A, V>>,
    ) -> Self {
        self.cache = Some(Arc::new(link));
        self
    }

    /// The entry of `store`, logged to changelog `topic`; `restore` applies a record of it.
    pub(crate) fn logged<S>(store: StoreRef<S>, topic: Arc<str>, restore: RestoreFn) -> Self
    where
        S: ?Sized + crate::state::StateStore,
    {
        StoreEntry { changelog: Some((topic, restore)), ..StoreEntry::new(store) }
    }

    /// The typed handle of the store, in tests.
    ///
    /// # Panics
    ///
    /// When the store is not a `S`.
    #[cfg(test)]
    pub(crate) fn typed_ref<S: ?Sized + 'static>(&self) -> StoreRef<S> {
        self.typed.downcast_ref::<StoreRef<S>>().expect("a store of the requested type").clone()
    }

    /// The changelog topic of a logged store.
    pub(crate) fn changelog_topic(&self) -> Option<&Arc<str>> {
        self.changelog.as_ref().map(|(topic, _)| topic)
    }

    /// Applies a record of the store's changelog to the store, without logging it again.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`] when the record does not decode or the store is not logged.
    pub(crate) fn restore(&self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        match &self.changelog {
            Some((_, restore)) => restore(key, value),
            None => Err(StreamsError::Bug("restoring a store that has no changelog".into())),
        }
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
    /// What the task's logged stores changed since the task last sent it.
    pub(crate) changelog: SharedChangelog,
    pub(crate) metrics: Arc<Metrics>,
    /// What to do with bad input.
    pub(crate) policies: Policies,
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
        policies: Policies,
    ) -> Self {
        TaskContext {
            task_id,
            app_id,
            stream_time: Timestamp::MIN,
            wall_clock,
            position: RecordPosition::default(),
            collector,
            stores: HashMap::new(),
            changelog: SharedChangelog::default(),
            metrics,
            policies,
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

    /// The link of store `name`'s record cache, when the store is cached.
    pub(crate) fn cache_link<A: 'static, V: 'static>(&self, name: &str) -> Option<Arc<crate::state::CacheLink<A, V>>> {
        let link = self.stores.get(name)?.cache.as_ref()?;
        link.downcast_ref::<Arc<crate::state::CacheLink<A, V>>>().cloned()
    }

    /// Flushes every store.
    pub(crate) fn flush_stores(&self) -> Result<()> {
        self.stores.values().try_for_each(|s| s.control.flush())
    }
}
