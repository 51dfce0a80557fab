//! Progress of store restoration, for dashboards and readiness checks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::task::TaskId;

/// Where the restoration of one store of one task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreProgress<'a> {
    /// The store.
    pub store: &'a str,
    /// Its task.
    pub task: TaskId,
    /// The changelog topic read.
    pub topic: &'a str,
    /// The changelog partition read (the task's).
    pub partition: i32,
    /// The offset the restore started from: the store's checkpoint, or the partition's
    /// beginning when the store had none (or an unusable one).
    pub start_offset: i64,
    /// The partition's end offset when the restore started: it restores up to there.
    pub end_offset: i64,
    /// Whether the store started from its checkpoint (local state known to be clean).
    pub from_checkpoint: bool,
    /// Records applied so far.
    pub restored: u64,
}

/// Told how the restoration of each store goes (Kafka Streams' `StateRestoreListener`).
///
/// Called on the stream thread that restores, between its polls: keep the methods short.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use streamz_core::runtime::{RestoreProgress, StateRestoreListener, StreamsConfig};
///
/// #[derive(Default)]
/// struct Restored(AtomicU64);
///
/// impl StateRestoreListener for Restored {
///     fn on_restore_end(&self, progress: &RestoreProgress<'_>, _: std::time::Duration) {
///         self.0.fetch_add(progress.restored, Ordering::Relaxed);
///     }
/// }
///
/// let restored = Arc::new(Restored::default());
/// let config = StreamsConfig::new("fraud-detector").restore_listener(restored.clone());
/// # let _ = config;
/// ```
pub trait StateRestoreListener: Send + Sync + 'static {
    /// Before the first record is read.
    fn on_restore_start(&self, progress: &RestoreProgress<'_>) {
        let _ = progress;
    }
    /// After each batch of records was applied and committed to the store.
    fn on_batch_restored(&self, progress: &RestoreProgress<'_>) {
        let _ = progress;
    }
    /// When the store holds its changelog up to the end offset.
    fn on_restore_end(&self, progress: &RestoreProgress<'_>, elapsed: Duration) {
        let _ = (progress, elapsed);
    }
}

/// A configured listener, debug-printable inside the configuration.
#[derive(Clone)]
pub(crate) struct RestoreListenerRef(pub(crate) Arc<dyn StateRestoreListener>);

impl fmt::Debug for RestoreListenerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateRestoreListener")
    }
}
