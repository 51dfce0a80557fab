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
//! group, committing nothing) reads the store's changelog partition up to its end offset at
//! that moment and applies every record to the store without logging it again, committing
//! the store every 100,000 records (or 8 MiB of keys and values). Progress is logged
//! (`tracing` at info: store, partition, offsets, records), counted in the
//! `restored-records` metric of [`RunningApp::metrics`], and reported to a
//! [`StateRestoreListener`] if one is configured.
//!
//! # Checkpoints: restoring only what is missing
//!
//! A RocksDB store keeps the writes of the current commit interval in memory, out of
//! RocksDB. Only after a commit succeeded (at-least-once: the producer flushed and the
//! offsets committed; exactly-once: the transaction committed) does the store write them, in
//! one RocksDB write batch together with its *checkpoint*: the offset after its last
//! acknowledged changelog record. So what a store holds on disk is always exactly its
//! changelog before its checkpoint, also after `kill -9` (without a write-ahead log a crash
//! loses the last memtables, and with them the checkpoint that described them: the store
//! falls back to an older, consistent commit). A task created on an instance that has its
//! store restores from the checkpoint, only the tail it missed: after a clean shutdown
//! nothing, after a crash the changes since the store last reached disk, after the task
//! came back from another instance what that instance wrote. A store with no checkpoint, or
//! one outside the changelog's offsets (the topic was deleted and created again), is
//! cleared and restored from the beginning; in-memory stores always are.
//!
//! Under exactly-once this is where streamz differs from Kafka Streams, which cannot tell
//! committed from uncommitted writes in RocksDB after a crash and wipes and restores every
//! store in full.
//!
//! # The state directory
//!
//! Stores live under `<state dir>/<application id>/<task>/<store>` (see
//! [`StreamsConfig::state_dir`]). A running instance locks `<state dir>/<application id>`
//! (a `.lock` file, released by the operating system when the process dies): a second
//! instance with the same directory fails to start with an error naming it. A rebalance
//! closes every task of the thread (the consumers use the eager `range` assignor); a task
//! assigned again restores from its checkpoint. The directory of a task that moved away is
//! kept for [`StreamsConfig::state_cleanup_delay`] (10 minutes) in case it comes back, then
//! deleted. [`App::clean_up`] deletes all local state before a start. Restoring runs inside
//! the rebalance callback, so a very large changelog delays the thread's next poll. Global
//! stores are not logged: their source topic is their log, reread at start.
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
#[cfg(test)]
mod noted_store;
mod restore_batch;
mod restore_listener;
mod standby;
mod state;
mod state_dir;
mod thread;

pub use app::{App, RunningApp};
pub use config::{ProcessingGuarantee, StreamsConfig, BOOTSTRAP_ENV};
pub use restore_listener::{RestoreProgress, StateRestoreListener};
pub use state::AppState;
