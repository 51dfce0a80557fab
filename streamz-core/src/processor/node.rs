//! Instantiated processor nodes: a processor and its typed children.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use super::context::ScheduleRequest;
use super::{Processor, ProcessorContext, Punctuator};
use crate::record::Record;
use crate::task::{lock, PanicScope, TaskContext};
use crate::time::Timestamp;
use crate::Result;

/// Where a node sends records: a child node, typed by the records it accepts.
pub(crate) trait Downstream<K, V>: Send {
    fn accept(&mut self, record: Record<K, V>, task: &mut TaskContext) -> Result<()>;
}

/// A processor with its children. `KIn`/`VIn` name the records it accepts.
pub(crate) struct NodeCore<P, KIn, VIn, KOut, VOut> {
    pub(crate) processor: P,
    pub(crate) children: Vec<Box<dyn Downstream<KOut, VOut>>>,
    pub(crate) name: Arc<str>,
    pub(crate) _in: PhantomData<fn(KIn, VIn)>,
}

impl<P, KIn, VIn, KOut, VOut> NodeCore<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
{
    /// A node of `processor` sending to `children`.
    pub(crate) fn new(processor: P, children: Vec<Box<dyn Downstream<KOut, VOut>>>, name: Arc<str>) -> Self {
        NodeCore { processor, children, name, _in: PhantomData }
    }

    /// Runs `init` of the processor, returning the punctuations it asked for.
    pub(crate) fn init(&mut self, task: &mut TaskContext) -> Result<Vec<ScheduleRequest>> {
        let mut requests = Vec::new();
        let mut ctx =
            ProcessorContext { children: &mut self.children, task, node: &self.name, schedules: Some(&mut requests) };
        self.processor.init(&mut ctx)?;
        Ok(requests)
    }
}

/// A node shared by its parent (records) and the task (punctuation, close).
pub(crate) struct NodeHandle<P, KIn, VIn, KOut, VOut>(pub(crate) Arc<Mutex<NodeCore<P, KIn, VIn, KOut, VOut>>>);

impl<P, KIn, VIn, KOut, VOut> Downstream<KIn, VIn> for NodeHandle<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
    KOut: 'static,
    VOut: 'static,
{
    fn accept(&mut self, record: Record<KIn, VIn>, task: &mut TaskContext) -> Result<()> {
        let mut core = lock(&self.0);
        let core = &mut *core;
        let _scope = PanicScope(&core.name);
        let mut ctx = ProcessorContext { children: &mut core.children, task, node: &core.name, schedules: None };
        core.processor.process(record, &mut ctx)
    }
}

/// A node with several parents (e.g. after `merge`): each parent holds one of these.
pub(crate) struct SharedDownstream<K, V>(pub(crate) Arc<Mutex<Box<dyn Downstream<K, V>>>>);

impl<K: 'static, V: 'static> Downstream<K, V> for SharedDownstream<K, V> {
    fn accept(&mut self, record: Record<K, V>, task: &mut TaskContext) -> Result<()> {
        lock(&self.0).accept(record, task)
    }
}

/// A node the task can punctuate and close.
pub(crate) trait Punctuate: Send {
    fn punctuate(&mut self, punctuator: Punctuator, time: Timestamp, task: &mut TaskContext) -> Result<()>;
    /// Runs the processor's [`Processor::flush`] (at a commit).
    fn flush(&mut self, task: &mut TaskContext) -> Result<()>;
    fn close(&mut self);
}

impl<P, KIn, VIn, KOut, VOut> Punctuate for NodeCore<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
    KOut: 'static,
    VOut: 'static,
{
    fn punctuate(&mut self, punctuator: Punctuator, time: Timestamp, task: &mut TaskContext) -> Result<()> {
        let mut ctx = ProcessorContext { children: &mut self.children, task, node: &self.name, schedules: None };
        self.processor.punctuate(punctuator, time, &mut ctx)
    }

    fn flush(&mut self, task: &mut TaskContext) -> Result<()> {
        let _scope = PanicScope(&self.name);
        let mut ctx = ProcessorContext { children: &mut self.children, task, node: &self.name, schedules: None };
        self.processor.flush(&mut ctx)
    }

    fn close(&mut self) {
        self.processor.close();
    }
}
