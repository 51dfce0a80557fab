//! Errors: [`TopologyError`] for a topology that cannot work, [`StreamsError`] at run time.

use std::fmt;
use std::sync::Arc;

/// A topology that cannot work, reported when it is built (or when a driver or application
/// is created for it), before any record is processed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopologyError {
    /// Two operators, stores or internal topics share a name.
    #[error("duplicate name `{name}`: {what} names must be unique within a topology")]
    DuplicateName {
        /// The name used twice.
        name: String,
        /// What kind of thing carries it (operator, store, topic).
        what: &'static str,
    },
    /// A window, grace or retention setting is invalid.
    #[error("invalid window in `{operator}`: {reason}")]
    InvalidWindow {
        /// The operator the window belongs to.
        operator: String,
        /// Why it is invalid.
        reason: String,
    },
    /// Inputs that must be co-partitioned have different partition counts.
    #[error("topics {topics:?} must be co-partitioned for `{operator}` but have partition counts {counts:?}")]
    NotCoPartitioned {
        /// The operator that needs co-partitioned inputs.
        operator: String,
        /// The topics.
        topics: Vec<String>,
        /// Their partition counts, in the same order.
        counts: Vec<i32>,
    },
    /// A generated name was used while explicit naming is required.
    #[error(
        "`{operator}` has no explicit name but the topology requires explicit names for internal topics and stores (name it with `Materialized::named`, `Grouped::named`, `Repartitioned::named` or `StreamJoined::named`)"
    )]
    UnnamedResource {
        /// The generated name.
        operator: String,
    },
    /// An operator is used in a way it does not support.
    #[error("invalid use of `{operator}`: {reason}")]
    Invalid {
        /// The operator.
        operator: String,
        /// What is wrong.
        reason: String,
    },
    /// A topic the topology needs is unknown.
    #[error("topic `{topic}` is not known: {reason}")]
    UnknownTopic {
        /// The topic.
        topic: String,
        /// Where it was looked for.
        reason: String,
    },
}

/// Where a record came from: topic, partition, offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordPosition {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
}

impl Default for RecordPosition {
    fn default() -> Self {
        RecordPosition { topic: Arc::from(""), partition: -1, offset: -1 }
    }
}

impl fmt::Display for RecordPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "topic `{}` partition {} offset {}", self.topic, self.partition, self.offset)
    }
}

/// A codec failure: what it was decoding or encoding and why.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{codec}: {message}")]
pub struct SerdeError {
    /// The codec that failed (e.g. `json`, `utf-8`, `i64`).
    pub codec: &'static str,
    /// The codec's message.
    pub message: String,
}

impl SerdeError {
    /// A failure of `codec` with `message`.
    pub fn new(codec: &'static str, message: impl Into<String>) -> Self {
        SerdeError { codec, message: message.into() }
    }
}

/// Which part of a record a codec failed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordPart {
    /// The key.
    Key,
    /// The value.
    Value,
}

impl fmt::Display for RecordPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordPart::Key => "key",
            RecordPart::Value => "value",
        })
    }
}

/// An error while running a topology.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamsError {
    /// Input bytes did not decode.
    #[error("cannot deserialize the {part} of the record at {position}: {source}")]
    Deserialization {
        /// Where the record came from.
        position: RecordPosition,
        /// Key or value.
        part: RecordPart,
        /// The codec's error.
        #[source]
        source: SerdeError,
    },
    /// An output did not encode.
    #[error("cannot serialize the {part} of a record for topic `{topic}`: {source}")]
    Serialization {
        /// The destination topic (or store changelog).
        topic: String,
        /// Key or value.
        part: RecordPart,
        /// The codec's error.
        #[source]
        source: SerdeError,
    },
    /// A record carries a negative timestamp.
    #[error("invalid timestamp {timestamp} of the record at {position}: timestamps must not be negative")]
    InvalidTimestamp {
        /// Where the record came from.
        position: RecordPosition,
        /// The timestamp.
        timestamp: i64,
    },
    /// A processor failed.
    #[error("processor `{node}` failed on the record at {position}: {message}")]
    Processing {
        /// The processor's name.
        node: String,
        /// Where the record came from.
        position: RecordPosition,
        /// What went wrong.
        message: String,
    },
    /// The producer rejected an output record for good (e.g. it is larger than
    /// `message.max.bytes`); retrying cannot succeed.
    #[error("the producer rejected a record for topic `{topic}`: {message}")]
    RecordRejected {
        /// The destination topic.
        topic: String,
        /// Why.
        message: String,
    },
    /// A state store failed.
    #[error("state store `{store}` failed: {message}")]
    State {
        /// The store.
        store: String,
        /// What went wrong.
        message: String,
    },
    /// A topology error detected at run time.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// An error in the Kafka client or broker.
    #[error("kafka: {message}")]
    Kafka {
        /// What went wrong.
        message: String,
        /// Whether retrying may succeed.
        retriable: bool,
    },
    /// Under exactly-once, a transaction failed: it was (or will be) aborted and the thread
    /// starts its tasks again from the committed offsets and state. `fenced`: the producer
    /// cannot go on (another producer with its transactional id started, or a fatal error),
    /// so the thread also replaces it. `migrated`: the consumer group had moved on (the
    /// thread's member id or generation was no longer valid, e.g. after a pause longer than
    /// the session timeout), so the tasks migrated; such failures are expected and never make
    /// the thread give up. Only reported when that recovery fails.
    #[error("transaction failed{}: {message}", if *fenced { " (producer fenced)" } else { "" })]
    Transaction {
        /// What went wrong.
        message: String,
        /// Whether the producer must be replaced.
        fenced: bool,
        /// Whether the group had given the thread's partitions to other members.
        migrated: bool,
    },
    /// An invariant of streamz was broken.
    #[error("{0} (this is a bug in streamz)")]
    Bug(String),
}

impl StreamsError {
    /// Whether the operation may succeed when retried.
    pub fn is_retriable(&self) -> bool {
        matches!(self, StreamsError::Kafka { retriable: true, .. })
    }
}

/// Result of a run-time operation.
pub type Result<T, E = StreamsError> = std::result::Result<T, E>;
