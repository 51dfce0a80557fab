//! Processors: the [`Processor`] trait, its [`ProcessorContext`], and the built-in operators.
//!
//! Inside a sub-topology records travel as typed values from processor to processor: a node
//! hands each record straight to its children, nothing is serialised between operators.

mod context;
mod node;
pub(crate) mod ops;

pub use context::{ProcessorContext, PunctuationType, Punctuator};
pub(crate) use node::{Downstream, NodeCore, NodeHandle, Punctuate, SharedDownstream};

use crate::record::Record;
use crate::time::Timestamp;
use crate::Result;

/// A processor: receives records of one node of a topology and forwards records to its
/// children. One instance runs per task (per input partition); build it in a factory passed
/// to `Stream::process`.
///
/// # Examples
///
/// ```
/// use streamz_core::prelude::*;
/// use streamz_core::processor::{Processor, ProcessorContext};
///
/// /// Forwards every second record.
/// #[derive(Default)]
/// struct EveryOther(u64);
///
/// impl Processor<String, i64, String, i64> for EveryOther {
///     fn process(
///         &mut self,
///         record: Record<String, i64>,
///         ctx: &mut ProcessorContext<'_, String, i64>,
///     ) -> streamz_core::Result<()> {
///         self.0 += 1;
///         if self.0 % 2 == 0 {
///             ctx.forward(record)?;
///         }
///         Ok(())
///     }
/// }
///
/// let builder = StreamsBuilder::new();
/// builder.stream::<String, i64>("in").process(EveryOther::default).to("out");
/// let driver = TopologyTestDriver::new(builder.build()?)?;
/// let (input, output) = (driver.input::<String, i64>("in"), driver.output::<String, i64>("out"));
/// for i in 0..4 {
///     input.pipe("k".to_string(), i, i)?;
/// }
/// assert_eq!(output.read_values(), vec![1, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Processor<KIn, VIn, KOut, VOut>: Send + 'static {
    /// Called once before the first record: look up stores, schedule punctuations.
    fn init(&mut self, ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Processes one record.
    fn process(&mut self, record: Record<KIn, VIn>, ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<()>;

    /// Called when a punctuation scheduled in [`Processor::init`] fires.
    fn punctuate(
        &mut self,
        punctuator: Punctuator,
        time: Timestamp,
        ctx: &mut ProcessorContext<'_, KOut, VOut>,
    ) -> Result<()> {
        let _ = (punctuator, time, ctx);
        Ok(())
    }

    /// Called at each commit of the task, before its stores are flushed, in topological order
    /// (a node before its children): a processor that holds records back (as the DSL's cached
    /// aggregations do) forwards them here. Does nothing by default.
    fn flush(&mut self, ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Called when the task closes.
    fn close(&mut self) {}
}
