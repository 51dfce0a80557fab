//! Configuration of an application.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::state::{RocksDbMemory, StoreBackend, StoreEnv};
use crate::task::TimestampPolicy;

/// The environment variable naming the bootstrap servers when none are configured.
pub const BOOTSTRAP_ENV: &str = "STREAMZ_BOOTSTRAP";

/// How an application runs: its id, the cluster, threads, commit interval, client settings.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use streamz_core::runtime::StreamsConfig;
///
/// let config = StreamsConfig::new("fraud-detector")
///     .bootstrap_servers("127.0.0.1:9092")
///     .num_stream_threads(2)
///     .commit_interval(Duration::from_secs(5))
///     .consumer_config("fetch.min.bytes", "1");
/// assert_eq!(config.application_id(), "fraud-detector");
/// ```
#[derive(Clone, Debug)]
pub struct StreamsConfig {
    pub(crate) application_id: String,
    pub(crate) bootstrap_servers: Option<String>,
    pub(crate) num_stream_threads: usize,
    pub(crate) commit_interval: Duration,
    pub(crate) state_dir: PathBuf,
    pub(crate) store_memory: usize,
    pub(crate) default_store_backend: StoreBackend,
    pub(crate) replication_factor: i32,
    pub(crate) timestamp_policy: TimestampPolicy,
    pub(crate) poll_timeout: Duration,
    pub(crate) max_poll_records: usize,
    pub(crate) startup_timeout: Duration,
    pub(crate) repartition_purge_interval: Duration,
    pub(crate) consumer_overrides: BTreeMap<String, String>,
    pub(crate) producer_overrides: BTreeMap<String, String>,
    pub(crate) embedded: Option<crate::kafka::EmbeddedHandle>,
}

impl StreamsConfig {
    /// The configuration of application `application_id` (the consumer group, and the prefix
    /// of internal topics). The bootstrap servers default to `$STREAMZ_BOOTSTRAP`; with none,
    /// the application starts an [`EmbeddedCluster`](crate::kafka::EmbeddedCluster).
    pub fn new(application_id: impl Into<String>) -> Self {
        StreamsConfig {
            application_id: application_id.into(),
            bootstrap_servers: std::env::var(BOOTSTRAP_ENV).ok().filter(|s| !s.is_empty()),
            num_stream_threads: 1,
            commit_interval: Duration::from_secs(30),
            state_dir: std::env::temp_dir().join("streamz"),
            store_memory: RocksDbMemory::DEFAULT_BYTES,
            default_store_backend: StoreBackend::RocksDb,
            replication_factor: 1,
            timestamp_policy: TimestampPolicy::Fail,
            poll_timeout: Duration::from_millis(100),
            max_poll_records: 2_000,
            startup_timeout: Duration::from_secs(10),
            repartition_purge_interval: Duration::from_secs(30),
            consumer_overrides: BTreeMap::new(),
            producer_overrides: BTreeMap::new(),
            embedded: None,
        }
    }

    /// The application id.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// Connects to the cluster at `servers` (`host:port[,host:port]`).
    pub fn bootstrap_servers(mut self, servers: impl Into<String>) -> Self {
        self.bootstrap_servers = Some(servers.into());
        self
    }

    /// Runs on an in-process embedded cluster of its own, whatever `$STREAMZ_BOOTSTRAP` says.
    pub fn embedded(mut self) -> Self {
        self.bootstrap_servers = None;
        self.embedded = None;
        self
    }

    /// Runs on `cluster`, an embedded cluster started beforehand (e.g. to create input topics
    /// and produce to them first).
    pub fn embedded_cluster(mut self, cluster: &crate::kafka::EmbeddedCluster) -> Self {
        self.bootstrap_servers = Some(cluster.bootstrap_servers().to_string());
        self.embedded = Some(cluster.handle());
        self
    }

    /// Runs `n` stream threads, each a consumer of the group with its own tasks (1 by default).
    pub fn num_stream_threads(mut self, n: usize) -> Self {
        self.num_stream_threads = n.max(1);
        self
    }

    /// Commits (flush stores and producer, then commit offsets) this often (30 s by default,
    /// as Kafka Streams under at-least-once).
    pub fn commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = interval;
        self
    }

    /// Keeps local state under `dir` (`$TMPDIR/streamz` by default): a RocksDB store `name`
    /// of task `<sub-topology>_<partition>` lives in `<dir>/<application id>/<task>/<name>`
    /// (`global` instead of the task for global stores).
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::runtime::StreamsConfig;
    ///
    /// let config = StreamsConfig::new("fraud-detector").state_dir("/var/lib/streamz");
    /// assert_eq!(config.store_env().dir(), std::path::Path::new("/var/lib/streamz/fraud-detector"));
    /// ```
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = dir.into();
        self
    }

    /// Bounds the memory of all RocksDB stores of this application together (per running
    /// instance) to about `bytes` (64 MiB by default): one block cache of `bytes` shared by
    /// every store, with the memtables of every store (at most half of it) charged to it.
    /// Beyond this bound, each open store costs a small fixed overhead (file handles, table
    /// readers, a partly filled memtable block); see the [state](crate::state) docs.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::runtime::StreamsConfig;
    ///
    /// let config = StreamsConfig::new("fraud-detector").store_memory(256 << 20);
    /// assert_eq!(config.store_env().memory().bytes(), 256 << 20);
    /// ```
    pub fn store_memory(mut self, bytes: usize) -> Self {
        self.store_memory = bytes;
        self
    }

    /// Keeps the stores that name no backend (no
    /// [`Materialized::with_backend`](crate::dsl::Materialized::with_backend)) in `backend`:
    /// [`StoreBackend::RocksDb`] by default, as Kafka Streams. Suppression buffers stay in
    /// memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::runtime::StreamsConfig;
    /// use streamz_core::state::StoreBackend;
    ///
    /// let config = StreamsConfig::new("fraud-detector").default_store_backend(StoreBackend::InMemory);
    /// assert_eq!(config.store_env().default_backend(), StoreBackend::InMemory);
    /// ```
    pub fn default_store_backend(mut self, backend: StoreBackend) -> Self {
        self.default_store_backend = backend;
        self
    }

    /// Where this application's stores live, with a new shared RocksDB memory of
    /// [`store_memory`](Self::store_memory) bytes (an application builds it once at start).
    pub fn store_env(&self) -> StoreEnv {
        StoreEnv::new(self.state_dir.join(&self.application_id))
            .with_default_backend(self.default_store_backend)
            .with_memory(RocksDbMemory::new(self.store_memory))
    }

    /// Replication factor of internal topics (1 by default, for a single broker).
    pub fn replication_factor(mut self, n: i32) -> Self {
        self.replication_factor = n;
        self
    }

    /// What to do with records with a negative timestamp (fail by default).
    pub fn timestamp_policy(mut self, policy: TimestampPolicy) -> Self {
        self.timestamp_policy = policy;
        self
    }

    /// Waits at most this long for the cluster at start (10 s by default).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Deletes the consumed records of repartition topics this often, after a commit (30 s by
    /// default, as Kafka Streams' `repartition.purge.interval.ms`). Repartition topics keep
    /// records forever otherwise (their retention is unlimited, so that old timestamps are
    /// never deleted before they are read).
    pub fn repartition_purge_interval(mut self, interval: Duration) -> Self {
        self.repartition_purge_interval = interval;
        self
    }

    /// Sets a librdkafka property of the consumers (e.g. `fetch.min.bytes`).
    pub fn consumer_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.consumer_overrides.insert(key.into(), value.into());
        self
    }

    /// Sets a librdkafka property of the producers (e.g. `linger.ms`).
    pub fn producer_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.producer_overrides.insert(key.into(), value.into());
        self
    }

    /// Processes at most this many records between two checks of the commit interval and
    /// punctuation (2,000 by default).
    pub fn max_poll_records(mut self, n: usize) -> Self {
        self.max_poll_records = n.max(1);
        self
    }
}
