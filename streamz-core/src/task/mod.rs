//! Tasks: one partition of one sub-topology, with its processors, stores and input queues.
//!
//! The same tasks run under the test driver and under the Kafka runtime.

pub(crate) mod buffers;
mod collector;
mod context;
mod fast_hash;
mod metrics;
mod partitioner;
pub(crate) mod policy;
mod punctuation;
mod queue;
#[allow(clippy::module_inception)]
mod task;

pub use collector::RecordCollector;
pub(crate) use context::StoreEntry;
#[cfg(test)]
pub(crate) use context::{RestoreFn, StoreControl};
pub use context::{StoreRef, TaskContext, TaskId};
pub(crate) use fast_hash::FastMap;
pub use metrics::Metrics;
pub use partitioner::{default_partition, murmur2};
pub(crate) use policy::{ErrorKind, PanicScope, Policies};
pub use policy::{
    ErrorPolicy, ProductionErrorPolicy, TimestampPolicy, HEADER_EXCEPTION, HEADER_MESSAGE, HEADER_OFFSET,
    HEADER_PARTITION, HEADER_TIMESTAMP, HEADER_TOPIC,
};
pub(crate) use punctuation::PunctuationQueue;
pub(crate) use queue::PartitionGroup;
pub(crate) use task::{SourceNode, Task};

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, recovering the data of a poisoned one (a panic while it was held is reported
/// by the processing error handling, not by a second panic here).
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
