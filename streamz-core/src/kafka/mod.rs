//! Kafka I/O: the only module that imports `rdkafka`.
//!
//! Consumers with rebalance callbacks, a producer-backed record collector, an admin for
//! internal topics and metadata, and the embedded (in-process mock) cluster.

mod admin;
mod batch;
mod changelog_offsets;
mod client;
mod collector;
mod consumer;
mod embedded;
mod errors;
mod logging;
mod produce;
mod repeated;
mod restore;
mod standby;
mod tools;
mod txn;

pub(crate) use admin::KafkaAdmin;
pub(crate) use changelog_offsets::start_offset;
pub(crate) use client::{consumer_config, global_consumer_config, thread_producer_config};
pub(crate) use collector::{KafkaCollector, SharedProducer};
pub(crate) use consumer::{GlobalConsumer, OffsetCommitter, PartitionEvents, StreamConsumer};
pub use embedded::EmbeddedCluster;
pub(crate) use embedded::EmbeddedHandle;
pub(crate) use errors::{is_transient, kafka_error};
pub(crate) use restore::{restore_consumer_config, RestoreConsumer, RestoreJob, RestoreSink, Restored};
pub(crate) use standby::{ChangelogTail, GroupMember};
pub use tools::KafkaClient;
