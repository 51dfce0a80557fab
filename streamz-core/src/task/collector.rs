//! Where sinks, repartitions and changelogs write: a record collector.

use crate::record::Headers;
use crate::time::Timestamp;
use crate::Result;

/// Receives the records a task produces. The Kafka runtime sends them with a producer; the
/// test driver keeps them in memory and feeds internal topics back to their tasks.
pub trait RecordCollector: Send {
    /// Sends a record to `topic`: to `partition`, or to the partition the default partitioner
    /// picks from the key bytes when `None`.
    fn send(
        &mut self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: Timestamp,
        headers: &Headers,
    ) -> Result<()>;
}
