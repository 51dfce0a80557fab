//! [`TopologyTestDriver`]: runs a [`Topology`](crate::topology::Topology) in-process,
//! deterministically, with no broker.
//!
//! The driver runs the same tasks, processors and stores as an application. Unlike Kafka
//! Streams' driver it runs several partitions per topic and real repartitioning: records
//! written to a repartition topic are partitioned by key and processed by the task of their
//! partition.

mod driver;
mod log;
mod topics;

pub use driver::{DriverConfig, TopologyTestDriver, STORE_BACKEND_ENV};
pub use topics::{TestInputTopic, TestOutputTopic};
