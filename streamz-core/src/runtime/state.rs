//! The lifecycle states of an application.

use std::fmt;

/// Where an application is in its lifecycle, as Kafka Streams' `KafkaStreams.State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppState {
    /// Created, not started.
    Created,
    /// Joining the group or moving tasks.
    Rebalancing,
    /// Every thread has its tasks and is processing.
    Running,
    /// Shutting down: finishing work and committing.
    PendingShutdown,
    /// Stopped cleanly.
    NotRunning,
    /// Stopped by an error.
    Error,
}

impl fmt::Display for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AppState::Created => "created",
            AppState::Rebalancing => "rebalancing",
            AppState::Running => "running",
            AppState::PendingShutdown => "pending shutdown",
            AppState::NotRunning => "not running",
            AppState::Error => "error",
        })
    }
}
