//! The logical graph: nodes, stores, topics.

use std::any::Any;
use std::sync::Arc;

use super::Instantiator;
use crate::state::ChangeLogger;
use crate::task::{SourceNode, StoreEntry};
use crate::Result;

/// Index of a node in the graph.
pub(crate) type NodeId = usize;

/// A topic, as the graph names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum TopicRef {
    /// A user topic, by its name.
    External(String),
    /// An internal topic, named `<application id>-<suffix>` at run time.
    Internal(String),
}

impl TopicRef {
    /// The topic's name in application `app_id`.
    pub(crate) fn resolve(&self, app_id: &str) -> String {
        match self {
            TopicRef::External(name) => name.clone(),
            TopicRef::Internal(suffix) => format!("{app_id}-{suffix}"),
        }
    }

    /// The name shown by `describe()`.
    pub(crate) fn display(&self) -> String {
        match self {
            TopicRef::External(name) => name.clone(),
            TopicRef::Internal(suffix) => suffix.clone(),
        }
    }
}

/// Builds the processor of a node for one task.
pub(crate) trait ProcessorFactory: Send + Sync {
    /// Instantiates the node `id` (and, through `inst`, its children); returns a
    /// `Box<dyn Downstream<KIn, VIn>>` as `Any`.
    fn instantiate(&self, id: NodeId, inst: &mut Instantiator<'_>) -> Result<Box<dyn Any + Send>>;
}

/// Builds the source node of a sub-topology for one task.
pub(crate) trait SourceFactory: Send + Sync {
    fn instantiate(&self, id: NodeId, inst: &mut Instantiator<'_>) -> Result<Box<dyn SourceNode>>;
}

/// Creates a store for one task.
pub(crate) trait StoreFactory: Send + Sync {
    /// The store `name` of a task, in `env` (the task's directory, default backend, shared
    /// RocksDB memory); with a `logger`, wrapped so that its writes go to the task's
    /// changelog buffer; with a `cache` budget, behind a record cache.
    fn create(
        &self,
        name: &str,
        env: &crate::state::StoreEnv,
        logger: Option<ChangeLogger>,
        cache: Option<std::sync::Arc<crate::state::CacheBudget>>,
    ) -> Result<StoreEntry>;
}

/// What a node is.
pub(crate) enum NodeKind {
    Source { topics: Vec<TopicRef>, factory: Arc<dyn SourceFactory> },
    Processor { factory: Arc<dyn ProcessorFactory> },
    Sink { topic: Option<TopicRef>, factory: Arc<dyn ProcessorFactory> },
}

/// A node of the logical graph.
pub(crate) struct GraphNode {
    pub(crate) name: String,
    pub(crate) kind: NodeKind,
    pub(crate) parents: Vec<NodeId>,
    pub(crate) children: Vec<NodeId>,
    pub(crate) stores: Vec<String>,
    /// Whether the node is part of the global sub-topology (a global table's source).
    pub(crate) global: bool,
}

/// The kind of a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoreKind {
    KeyValue,
    Window,
    Session,
}

/// A store of the topology.
pub(crate) struct StoreDef {
    pub(crate) name: String,
    pub(crate) kind: StoreKind,
    /// Whether it is backed by a changelog topic `<app>-<name>-changelog`.
    pub(crate) logged: bool,
    /// Retention of window and session stores (ms).
    pub(crate) retention_ms: Option<i64>,
    /// Whether it is a global store (one for all tasks, fed by a global source).
    pub(crate) global: bool,
    /// Whether the store gets a record cache (when the application has one); only for stores
    /// whose operator forwards what the cache flushes.
    pub(crate) cached: bool,
    pub(crate) factory: Arc<dyn StoreFactory>,
}

impl StoreDef {
    /// The changelog topic of the store.
    pub(crate) fn changelog(&self) -> TopicRef {
        TopicRef::Internal(format!("{}-changelog", self.name))
    }
}
