//! `Stream::split`: routing each record to the first branch whose predicate holds.

use std::sync::Arc;

use super::Stream;
use crate::processor::ProcessorContext;
use crate::record::Record;
use crate::serdes::Data;

type Predicate<K, V> = Arc<dyn Fn(&K, &V) -> bool + Send + Sync>;

/// A split in progress: add branches, then finish with [`Split::default_branch`] or
/// [`Split::no_default_branch`].
#[doc(alias = "BranchedKStream")]
pub struct Split<K, V> {
    stream: Stream<K, V>,
    predicates: Vec<Predicate<K, V>>,
}

impl<K, V> std::fmt::Debug for Split<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Split").field("branches", &self.predicates.len()).finish()
    }
}

impl<K: Data, V: Data> Split<K, V> {
    pub(crate) fn new(stream: Stream<K, V>) -> Self {
        Split { stream, predicates: Vec::new() }
    }

    /// Adds a branch for the records matching `predicate` and no earlier branch.
    pub fn branch(mut self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.predicates.push(Arc::new(predicate));
        self
    }

    /// Finishes with a last branch of the records no predicate matched; returns the branches
    /// in order.
    pub fn default_branch(self) -> Vec<Stream<K, V>> {
        self.finish(true)
    }

    /// Finishes; records no predicate matched are dropped. Returns the branches in order.
    pub fn no_default_branch(self) -> Vec<Stream<K, V>> {
        self.finish(false)
    }

    fn finish(self, default: bool) -> Vec<Stream<K, V>> {
        let predicates: Arc<[Predicate<K, V>]> = self.predicates.into();
        let count = predicates.len() + usize::from(default);
        let route = {
            let predicates = predicates.clone();
            move |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>| match predicates
                .iter()
                .position(|p| p(&r.key, &r.value))
            {
                Some(i) => ctx.forward_to(i, r),
                None if default => ctx.forward_to(predicates.len(), r),
                None => Ok(()),
            }
        };
        let s = &self.stream;
        let split =
            s.add_fn("KSTREAM-BRANCH", None, route, s.key_serde.clone(), s.value_serde.clone(), s.repartition_required);
        (0..count)
            .map(|_| {
                let pass = |r: Record<K, V>, ctx: &mut ProcessorContext<'_, K, V>| ctx.forward(r);
                split.add_fn(
                    "KSTREAM-BRANCHCHILD",
                    None,
                    pass,
                    s.key_serde.clone(),
                    s.value_serde.clone(),
                    s.repartition_required,
                )
            })
            .collect()
    }
}
