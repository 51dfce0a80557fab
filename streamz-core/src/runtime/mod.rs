//! The application runtime: configuration, stream threads, tasks on assigned partitions, the
//! poll → process → commit loop, rebalancing, and shutdown.
//!
//! # State follows its task
//!
//! Every write to a logged store also goes to the store's changelog topic
//! `<application id>-<store>-changelog`, at the partition of its task (see [`crate::state`]
//! for the record layouts), through the thread's producer. A commit flushes the producer
//! before it commits the input offsets, so the changelog holds at least every change that
//! the committed offsets account for (at-least-once). Under
//! [`ProcessingGuarantee::ExactlyOnce`] the changelog writes, the outputs and the input
//! offsets are committed in one transaction, and stores are restored `read_committed`, so a
//! restored store holds exactly the changes of the committed offsets.
//!
//! When a rebalance assigns a partition, the thread creates the task and, before the task
//! processes a record, restores each of its logged stores: a restore consumer (outside the
//! group, committing nothing) reads the store's changelog partition from the beginning up to
//! its end offset at that moment and applies every record to the new, empty store without
//! logging it again. Each store's restore is logged (`tracing` at info: store, partition,
//! records) and counted in the `restored-records` metric of [`RunningApp::metrics`].
//!
//! Stores live in memory, and a rebalance closes every task of the thread (the consumers use
//! the eager `range` assignor), so a task is restored in full each time it is assigned, also
//! when it stays on the same instance. Restoring runs inside the rebalance callback, so a
//! very large changelog delays the thread's next poll. Global stores are not logged: their
//! source topic is their log, reread at start.
//!
//! ```no_run
//! use streamz_core::prelude::*;
//! use streamz_core::runtime::{App, StreamsConfig};
//!
//! let builder = StreamsBuilder::new();
//! builder.stream::<String, i64>("payments").filter(|_, v| *v > 1_000).to("large-payments");
//! let config = StreamsConfig::new("payments-filter").bootstrap_servers("127.0.0.1:9092");
//! let running = App::new(builder.build()?, config)?.start()?;
//! running.run_until_shutdown_signal()?; // Ctrl-C or SIGTERM: final commit, then exit
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod app;
mod config;
mod eos;
mod global;
mod state;
mod thread;

pub use app::{App, RunningApp};
pub use config::{ProcessingGuarantee, StreamsConfig, BOOTSTRAP_ENV};
pub use state::AppState;
