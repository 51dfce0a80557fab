//! Turning a sub-topology into a running task: typed nodes wired to typed children.

use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use super::graph::{NodeId, NodeKind, ProcessorFactory, TopicRef};
use super::{Plan, Topology};
use crate::error::StreamsError;
use crate::processor::{Downstream, NodeCore, NodeHandle, Processor, SharedDownstream};
use crate::state::{ChangeLogger, StoreEnv};
use crate::task::{lock, Metrics, RecordCollector, StoreEntry, StoreRef, Task, TaskContext, TaskId, TimestampPolicy};
use crate::time::Timestamp;
use crate::Result;

/// Builds the nodes of one task.
pub(crate) struct Instantiator<'a> {
    pub(crate) topology: &'a Topology,
    pub(crate) plan: &'a Plan,
    pub(crate) task: &'a mut Task,
    shared: HashMap<NodeId, Box<dyn Any + Send>>,
}

impl Instantiator<'_> {
    /// The typed children of node `id`.
    pub(crate) fn children<K: 'static, V: 'static>(&mut self, id: NodeId) -> Result<Vec<Box<dyn Downstream<K, V>>>> {
        let children = self.topology.node(id).children.clone();
        children.into_iter().map(|c| self.node::<K, V>(c)).collect()
    }

    /// The typed node `id`, built once even when it has several parents.
    fn node<K: 'static, V: 'static>(&mut self, id: NodeId) -> Result<Box<dyn Downstream<K, V>>> {
        let node = self.topology.node(id);
        let name = node.name.clone();
        let mismatch = || StreamsError::Bug(format!("node `{name}` does not accept the records of its parent"));
        if node.parents.len() > 1 {
            if let Some(shared) = self.shared.get(&id) {
                let shared = shared.downcast_ref::<Arc<Mutex<Box<dyn Downstream<K, V>>>>>().ok_or_else(mismatch)?;
                return Ok(Box::new(SharedDownstream(shared.clone())));
            }
        }
        let factory = match &node.kind {
            NodeKind::Processor { factory } | NodeKind::Sink { factory, .. } => factory.clone(),
            NodeKind::Source { .. } => return Err(StreamsError::Bug(format!("source `{name}` used as a child"))),
        };
        let built = factory.instantiate(id, self)?;
        let built = *built.downcast::<Box<dyn Downstream<K, V>>>().map_err(|_| mismatch())?;
        if self.topology.node(id).parents.len() > 1 {
            let shared = Arc::new(Mutex::new(built));
            self.shared.insert(id, Box::new(shared.clone()));
            return Ok(Box::new(SharedDownstream(shared)));
        }
        Ok(built)
    }

    /// The name of node `id`.
    pub(crate) fn name(&self, id: NodeId) -> Arc<str> {
        Arc::from(self.topology.node(id).name.as_str())
    }

    /// The typed store `name` of this task.
    pub(crate) fn store<S: ?Sized + 'static>(&self, name: &str) -> Result<StoreRef<S>> {
        self.task.ctx.store(name)
    }

    /// The full name of `topic` in this application.
    pub(crate) fn topic(&self, topic: &TopicRef) -> Arc<str> {
        Arc::from(topic.resolve(&self.plan.app_id))
    }

    /// Registers node `core` for punctuation and close, and runs its `init`.
    pub(crate) fn init<P, KIn, VIn, KOut, VOut>(
        &mut self,
        core: &Arc<Mutex<NodeCore<P, KIn, VIn, KOut, VOut>>>,
    ) -> Result<()>
    where
        P: Processor<KIn, VIn, KOut, VOut>,
        KIn: 'static,
        VIn: 'static,
        KOut: 'static,
        VOut: 'static,
    {
        let requests = lock(core).init(&mut self.task.ctx)?;
        self.task.add_node(core.clone());
        for r in requests {
            self.task.schedule(core.clone(), r.punctuator, r.interval, r.kind);
        }
        Ok(())
    }
}

/// A factory of a processor node from a closure building the processor.
pub(crate) struct ProcFactory<P, KIn, VIn, KOut, VOut, F> {
    make: F,
    _types: PhantomData<fn(P, KIn, VIn, KOut, VOut)>,
}

impl<P, KIn, VIn, KOut, VOut, F> ProcFactory<P, KIn, VIn, KOut, VOut, F>
where
    F: Fn(&mut Instantiator<'_>, NodeId) -> Result<P> + Send + Sync + 'static,
{
    pub(crate) fn new(make: F) -> Arc<Self> {
        Arc::new(ProcFactory { make, _types: PhantomData })
    }
}

impl<P, KIn, VIn, KOut, VOut, F> ProcessorFactory for ProcFactory<P, KIn, VIn, KOut, VOut, F>
where
    P: Processor<KIn, VIn, KOut, VOut>,
    F: Fn(&mut Instantiator<'_>, NodeId) -> Result<P> + Send + Sync + 'static,
    KIn: 'static,
    VIn: 'static,
    KOut: Send + 'static,
    VOut: Send + 'static,
{
    fn instantiate(&self, id: NodeId, inst: &mut Instantiator<'_>) -> Result<Box<dyn Any + Send>> {
        let children = inst.children::<KOut, VOut>(id)?;
        let processor = (self.make)(inst, id)?;
        let core = Arc::new(Mutex::new(NodeCore::new(processor, children, inst.name(id))));
        inst.init(&core)?;
        let node: Box<dyn Downstream<KIn, VIn>> = Box::new(NodeHandle(core));
        Ok(Box::new(node))
    }
}

/// Everything a task needs besides its topology.
pub(crate) struct TaskEnv {
    pub(crate) collector: Box<dyn RecordCollector>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) wall_clock: Timestamp,
    pub(crate) timestamp_policy: TimestampPolicy,
    /// Global stores, shared by every task.
    pub(crate) globals: HashMap<String, StoreEntry>,
    /// The application's store directory (`<state dir>/<application id>`), default backend
    /// and shared RocksDB memory.
    pub(crate) stores: StoreEnv,
}

impl Topology {
    /// Builds task `task_id` (a global task when `global` is set): its stores, then its nodes
    /// from the sources down, running each processor's `init`.
    ///
    /// Stores live in `<stores dir>/<task id>` (`global` for global tasks). A store rebuilt
    /// from the beginning of its changelog or source topic starts empty: what it left on disk
    /// is deleted first.
    pub(crate) fn create_task(&self, plan: &Plan, task_id: TaskId, global: bool, env: TaskEnv) -> Result<Task> {
        let subs = if global { &self.global } else { &self.subtopologies };
        let sub = subs
            .get(task_id.subtopology as usize)
            .ok_or_else(|| StreamsError::Bug(format!("task {task_id} names no sub-topology")))?;
        let ctx =
            TaskContext::new(task_id, Arc::from(plan.app_id.as_str()), env.collector, env.metrics, env.wall_clock);
        let mut task = Task::new(ctx, env.timestamp_policy);
        for (name, entry) in env.globals {
            task.ctx.add_store(&name, entry);
        }
        let stores = env.stores.join(&if global { "global".to_string() } else { task_id.to_string() });
        for name in &sub.stores {
            let def = self.store(name)?;
            let logger = (def.logged && !def.global && !global)
                .then(|| ChangeLogger::new(def.changelog().resolve(&plan.app_id), task.ctx.changelog.clone()));
            if logger.is_some() || global {
                stores.clear_store(name)?;
            }
            let entry = def.factory.create(name, &stores, logger)?;
            task.ctx.add_store(name, entry);
        }
        let mut inst = Instantiator { topology: self, plan, task: &mut task, shared: HashMap::new() };
        let mut sources = Vec::new();
        for &source in &sub.sources {
            let NodeKind::Source { topics, factory } = &self.node(source).kind else {
                return Err(StreamsError::Bug(format!("node {source} listed as a source is not one")));
            };
            let topics: Vec<Arc<str>> = topics.iter().map(|t| inst.topic(t)).collect();
            sources.push((topics, factory.instantiate(source, &mut inst)?));
        }
        for (topics, node) in sources {
            let node: Arc<Mutex<Box<dyn crate::task::SourceNode>>> = Arc::new(Mutex::new(node));
            for topic in topics {
                task.sources.insert(topic, Box::new(SharedSource(node.clone())));
            }
        }
        Ok(task)
    }
}

/// A source read from several topics (`builder.stream_from(["a", "b"])`).
struct SharedSource(Arc<Mutex<Box<dyn crate::task::SourceNode>>>);

impl crate::task::SourceNode for SharedSource {
    fn extract_timestamp(&self, raw: &crate::record::RawRecord, wall_clock: Timestamp) -> Result<Timestamp> {
        lock(&self.0).extract_timestamp(raw, wall_clock)
    }

    fn process(&mut self, raw: crate::record::RawRecord, timestamp: Timestamp, task: &mut TaskContext) -> Result<()> {
        lock(&self.0).process(raw, timestamp, task)
    }
}
