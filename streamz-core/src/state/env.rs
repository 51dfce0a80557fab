//! Where a task's stores live and what they share.

use std::path::{Path, PathBuf};

#[cfg(feature = "rocksdb")]
use super::RocksDbMemory;
use super::StoreBackend;
use crate::Result;

/// The default bound of the memory RocksDB stores share: 64 MiB.
pub(crate) const DEFAULT_STORE_MEMORY: usize = 64 << 20;

/// Where the stores of an application (or of one of its tasks) live, the backend of stores
/// that choose none, and the memory RocksDB stores share.
///
/// The runtime builds one per application from its [`StreamsConfig`](crate::runtime::StreamsConfig)
/// (`<state_dir>/<application id>`) and one per task below it (`<task id>`, or `global`); a
/// store `name` of that task lives in `<dir>/<name>`. The test driver uses a fresh temporary
/// directory per driver.
///
/// # Examples
///
/// ```
/// use streamz_core::state::{RocksDbMemory, StoreBackend, StoreEnv};
///
/// let memory = RocksDbMemory::new(32 << 20);
/// let env = StoreEnv::new("/var/lib/streamz/fraud-detector")
///     .with_default_backend(StoreBackend::RocksDb)
///     .with_memory(memory.clone());
/// assert_eq!(env.store_dir("counts"), std::path::Path::new("/var/lib/streamz/fraud-detector/counts"));
/// assert!(env.memory().shares_with(&memory));
/// ```
#[derive(Clone, Debug)]
pub struct StoreEnv {
    dir: PathBuf,
    default_backend: StoreBackend,
    #[cfg(feature = "rocksdb")]
    memory: RocksDbMemory,
}

impl StoreEnv {
    /// Stores under `dir`, in memory unless they choose a backend, with a RocksDB memory of
    /// `RocksDbMemory::DEFAULT_BYTES` (64 MiB).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StoreEnv {
            dir: dir.into(),
            default_backend: StoreBackend::InMemory,
            #[cfg(feature = "rocksdb")]
            memory: RocksDbMemory::default(),
        }
    }

    /// Keeps stores that choose no backend in `backend`.
    pub fn with_default_backend(mut self, backend: StoreBackend) -> Self {
        self.default_backend = backend;
        self
    }

    /// Shares `memory` among the RocksDB stores.
    #[cfg(feature = "rocksdb")]
    pub fn with_memory(mut self, memory: RocksDbMemory) -> Self {
        self.memory = memory;
        self
    }

    /// The directory of the stores.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of store `name`.
    pub fn store_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The backend of stores that choose none.
    pub fn default_backend(&self) -> StoreBackend {
        self.default_backend
    }

    /// The memory RocksDB stores share.
    #[cfg(feature = "rocksdb")]
    pub fn memory(&self) -> &RocksDbMemory {
        &self.memory
    }

    /// The same settings for the stores in `dir/sub`.
    pub(crate) fn join(&self, sub: &str) -> StoreEnv {
        StoreEnv { dir: self.dir.join(sub), ..self.clone() }
    }

    /// Deletes what store `name` kept on disk (nothing for in-memory stores), before it is
    /// rebuilt from its changelog or source topic.
    pub(crate) fn clear_store(&self, name: &str) -> Result<()> {
        match std::fs::remove_dir_all(self.store_dir(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(crate::StreamsError::State {
                store: name.to_string(),
                message: format!("cannot delete {}: {e}", self.store_dir(name).display()),
            }),
            _ => Ok(()),
        }
    }
}
