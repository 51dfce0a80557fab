//! Turning a sub-topology into a running task: typed nodes wired to typed children.

use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use super::graph::{NodeId, NodeKind, ProcessorFactory, TopicRef};
use super::{Plan, Topology};
use crate::error::StreamsError;
use crate::processor::{Downstream, NodeCore, NodeHandle, Processor, SharedDownstream};
use crate::state::{ChangeLogger, SharedChangelog, StoreEnv};
use crate::task::{lock, Metrics, Policies, RecordCollector, StoreEntry, StoreRef, Task, TaskContext, TaskId};
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

    /// The link of store `name`'s record cache, when the store is cached in this task.
    pub(crate) fn cache_link<A: 'static, V: 'static>(&self, name: &str) -> Option<Arc<crate::state::CacheLink<A, V>>> {
        self.task.ctx.cache_link(name)
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
    pub(crate) policies: Policies,
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
        let app_id = Arc::from(plan.app_id.as_str());
        let ctx = TaskContext::new(task_id, app_id, env.collector, env.metrics, env.wall_clock, env.policies);
        let mut task = Task::new(ctx);
        for (name, entry) in env.globals {
            task.ctx.add_store(&name, entry);
        }
        let dir = if global { "global".to_string() } else { task_id.to_string() };
        let changelog = task.ctx.changelog.clone();
        for (name, entry) in self.create_stores(plan, &sub.stores, &env.stores.join(&dir), global, changelog, true)? {
            task.ctx.add_store(&name, entry);
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

impl Topology {
    /// Creates `names`, the stores of a task, in `stores`: logged to `changelog` unless
    /// `global` (a global store is rebuilt from its source topic, cleared first), with the
    /// record cache when `cached` and the store has one.
    fn create_stores(
        &self,
        plan: &Plan,
        names: &[String],
        stores: &StoreEnv,
        global: bool,
        changelog: SharedChangelog,
        cached: bool,
    ) -> Result<Vec<(String, StoreEntry)>> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let def = self.store(name)?;
            let logger = (def.logged && !def.global && !global)
                .then(|| ChangeLogger::new(def.changelog().resolve(&plan.app_id), changelog.clone()));
            if global {
                stores.clear_store(name)?;
            }
            let cache = if def.cached && !global && cached { plan.cache.clone() } else { None };
            out.push((name.clone(), def.factory.create(name, stores, logger, cache)?));
        }
        Ok(out)
    }

    /// The logged stores of sub-topology `sub` (none when it has no such sub-topology).
    pub(crate) fn logged_stores(&self, sub: u32) -> Vec<String> {
        let Some(sub) = self.subtopologies.get(sub as usize) else { return Vec::new() };
        sub.stores.iter().filter(|n| self.store(n).is_ok_and(|d| d.logged && !d.global)).cloned().collect()
    }

    /// Opens the logged stores of task `task_id` for a standby replica: in the task's
    /// directory, without record cache; they are written only by restoring changelog records.
    pub(crate) fn create_standby_stores(
        &self,
        plan: &Plan,
        task_id: TaskId,
        stores: &StoreEnv,
    ) -> Result<Vec<(String, StoreEntry)>> {
        let names = self.logged_stores(task_id.subtopology);
        self.create_stores(plan, &names, &stores.join(&task_id.to_string()), false, SharedChangelog::default(), false)
    }
}

/// A source read from several topics (`builder.stream_from(["a", "b"])`).
struct SharedSource(Arc<Mutex<Box<dyn crate::task::SourceNode>>>);

impl crate::task::SourceNode for SharedSource {
    fn extract_timestamp(&self, raw: &crate::record::RawRecord, wall_clock: Timestamp) -> Result<Timestamp> {
        lock(&self.0).extract_timestamp(raw, wall_clock)
    }

    fn process(
        &mut self,
        raw: &mut crate::record::RawRecord,
        timestamp: Timestamp,
        task: &mut TaskContext,
    ) -> Result<()> {
        lock(&self.0).process(raw, timestamp, task)
    }

    fn deserialization_policy(&self) -> Option<crate::task::ErrorPolicy> {
        lock(&self.0).deserialization_policy()
    }
}
