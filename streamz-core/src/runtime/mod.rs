//! The application runtime: configuration, stream threads, tasks on assigned partitions, the
//! poll → process → commit loop, rebalancing, and shutdown.
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
mod global;
mod state;
mod thread;

pub use app::{App, RunningApp};
pub use config::{StreamsConfig, BOOTSTRAP_ENV};
pub use state::AppState;
