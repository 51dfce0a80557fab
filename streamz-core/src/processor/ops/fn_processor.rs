//! Stateless operators as closures over a record and the context.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::Result;

/// A processor made of one closure; `filter`, `map`, `select_key`, `peek` and the other
/// stateless operators are closures of this shape, so each chain is monomorphised.
pub(crate) struct FnProcessor<F, KIn, VIn, KOut, VOut> {
    f: Arc<F>,
    _types: PhantomData<fn(KIn, VIn, KOut, VOut)>,
}

impl<F, KIn, VIn, KOut, VOut> FnProcessor<F, KIn, VIn, KOut, VOut> {
    pub(crate) fn new(f: Arc<F>) -> Self {
        FnProcessor { f, _types: PhantomData }
    }
}

impl<F, KIn, VIn, KOut, VOut> Processor<KIn, VIn, KOut, VOut> for FnProcessor<F, KIn, VIn, KOut, VOut>
where
    F: Fn(Record<KIn, VIn>, &mut ProcessorContext<'_, KOut, VOut>) -> Result<()> + Send + Sync + 'static,
    KIn: 'static,
    VIn: 'static,
    KOut: 'static,
    VOut: 'static,
{
    fn process(&mut self, record: Record<KIn, VIn>, ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<()> {
        (self.f)(record, ctx)
    }
}
