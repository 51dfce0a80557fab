//! Configuration of an application.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

#[cfg(feature = "rocksdb")]
use crate::state::RocksDbMemory;
use crate::state::{StoreBackend, StoreEnv, DEFAULT_STORE_MEMORY};
use crate::task::{ErrorPolicy, Policies, ProductionErrorPolicy, TimestampPolicy};

/// What an application guarantees about its outputs, state and committed offsets when a
/// thread fails, an instance crashes, or partitions move (rule 19).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessingGuarantee {
    /// Every input record is processed at least once: after a crash, what was processed since
    /// the last commit is processed again, so outputs and changelog writes may be duplicated.
    #[default]
    AtLeastOnce,
    /// Every input record affects outputs and state exactly once, as seen by `read_committed`
    /// readers: each stream thread writes outputs, repartition records and changelog records
    /// with one transactional producer, and commits its input offsets in the same
    /// transaction. A failed transaction is aborted, and the thread's tasks start again from
    /// the committed offsets and state. Commits every 100 ms by default.
    #[doc(alias = "exactly_once_v2")]
    ExactlyOnce,
}

/// The environment variable naming the bootstrap servers when none are configured.
pub const BOOTSTRAP_ENV: &str = "STREAMZ_BOOTSTRAP";

/// How an application runs: its id, the cluster, threads, processing guarantee, commit
/// interval, client settings.
///
/// Under [`ProcessingGuarantee::ExactlyOnce`] each stream thread writes outputs, repartition
/// records and changelog records with a transactional producer and commits the input offsets
/// in the same transaction; consumers read `read_committed`; the commit interval defaults to
/// 100 ms. See [`StreamsConfig::processing_guarantee`] and [`StreamsConfig::instance_id`].
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
    pub(crate) commit_interval: Option<Duration>,
    pub(crate) processing_guarantee: ProcessingGuarantee,
    pub(crate) instance_id: Option<String>,
    pub(crate) state_dir: PathBuf,
    pub(crate) store_memory: usize,
    pub(crate) cache_max_bytes: usize,
    pub(crate) default_store_backend: StoreBackend,
    pub(crate) replication_factor: i32,
    pub(crate) policies: Policies,
    pub(crate) poll_timeout: Duration,
    pub(crate) max_poll_records: usize,
    pub(crate) startup_timeout: Duration,
    pub(crate) commit_timeout: Duration,
    pub(crate) num_standby_replicas: usize,
    pub(crate) repartition_purge_interval: Duration,
    pub(crate) consumer_overrides: BTreeMap<String, String>,
    pub(crate) producer_overrides: BTreeMap<String, String>,
    pub(crate) embedded: Option<crate::kafka::EmbeddedHandle>,
    pub(crate) restore_listener: Option<super::restore_listener::RestoreListenerRef>,
    pub(crate) state_cleanup_delay: Duration,
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
            commit_interval: None,
            processing_guarantee: ProcessingGuarantee::AtLeastOnce,
            instance_id: None,
            state_dir: std::env::temp_dir().join("streamz"),
            store_memory: DEFAULT_STORE_MEMORY,
            cache_max_bytes: Self::DEFAULT_CACHE_MAX_BYTES,
            #[cfg(feature = "rocksdb")]
            default_store_backend: StoreBackend::RocksDb,
            #[cfg(not(feature = "rocksdb"))]
            default_store_backend: StoreBackend::InMemory,
            replication_factor: -1,
            policies: Policies::default(),
            poll_timeout: Duration::from_millis(100),
            max_poll_records: 2_000,
            startup_timeout: Duration::from_secs(10),
            commit_timeout: Duration::from_secs(30),
            num_standby_replicas: 0,
            repartition_purge_interval: Duration::from_secs(30),
            consumer_overrides: BTreeMap::new(),
            producer_overrides: BTreeMap::new(),
            embedded: None,
            restore_listener: None,
            state_cleanup_delay: Duration::from_secs(600),
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

    /// Commits (flush stores and producer, then commit offsets, or the transaction under
    /// exactly-once) this often: by default 30 s under at-least-once and 100 ms under
    /// exactly-once, as Kafka Streams.
    pub fn commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = Some(interval);
        self
    }

    /// The commit interval in effect: the one set, else the default of the guarantee.
    pub(crate) fn effective_commit_interval(&self) -> Duration {
        self.commit_interval.unwrap_or(match self.processing_guarantee {
            ProcessingGuarantee::AtLeastOnce => Duration::from_secs(30),
            ProcessingGuarantee::ExactlyOnce => Duration::from_millis(100),
        })
    }

    /// What the application guarantees about its outputs when it fails or is rebalanced
    /// ([`ProcessingGuarantee::AtLeastOnce`] by default).
    #[doc(alias = "processing.guarantee")]
    pub fn processing_guarantee(mut self, guarantee: ProcessingGuarantee) -> Self {
        self.processing_guarantee = guarantee;
        self
    }

    /// Names this instance of the application in the transactional ids of its producers under
    /// exactly-once: `<application id>-<instance id>-<thread index>`.
    ///
    /// By default the id is `<host name>-<process id>` (with a counter when one process starts
    /// several applications), new at every start: a zombie of an
    /// earlier run (a process that lost its partitions but still runs) is then fenced by the
    /// consumer group instead, since its offsets are sent with its stale group generation and
    /// the broker refuses them. A transaction the zombie left open blocks `read_committed`
    /// readers of its partitions until it times out (`transaction.timeout.ms`, 10 s by
    /// default). An id that stays the same across restarts of the same instance (e.g. the
    /// pod name of a stateful set) fences the previous incarnation at once: the new producer
    /// aborts its open transaction when it starts. Two running instances must never share an
    /// id: they would fence each other.
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = Some(id.into());
        self
    }

    /// The instance id in effect: the one set, else `<host name>-<process id>[-<n>]`, where
    /// `n` counts the applications started before in this process (set once by `App::start`).
    pub(crate) fn effective_instance_id(&self) -> String {
        self.instance_id.clone().unwrap_or_else(|| default_instance_id(0))
    }

    /// Under exactly-once, how long a transaction may stay open before the broker aborts it
    /// (`transaction.timeout.ms`, 10 s unless the producer settings say otherwise).
    pub(crate) fn transaction_timeout(&self) -> Option<Duration> {
        if self.processing_guarantee != ProcessingGuarantee::ExactlyOnce {
            return None;
        }
        let ms = self.producer_overrides.get("transaction.timeout.ms").and_then(|v| v.parse().ok()).unwrap_or(10_000);
        Some(Duration::from_millis(ms))
    }

    /// This configuration with its instance id fixed for one run of an application.
    pub(crate) fn resolve_instance_id(mut self) -> Self {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        if self.instance_id.is_none() {
            self.instance_id = Some(default_instance_id(STARTED.fetch_add(1, Ordering::SeqCst)));
        }
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

    /// Tells `listener` how the restoration of each store goes (start, each batch, end).
    /// Progress is also logged (`tracing` at info) and counted in the `restored-records`
    /// metric.
    ///
    /// # Examples
    ///
    /// See [`StateRestoreListener`](super::StateRestoreListener).
    pub fn restore_listener(mut self, listener: std::sync::Arc<dyn super::StateRestoreListener>) -> Self {
        self.restore_listener = Some(super::restore_listener::RestoreListenerRef(listener));
        self
    }

    /// How long the local state of a task that moved to another instance is kept (10 minutes
    /// by default, as Kafka Streams' `state.cleanup.delay.ms`): if the task comes back
    /// within it, its stores restore from their checkpoints, not from the beginning.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use streamz_core::runtime::StreamsConfig;
    ///
    /// let config = StreamsConfig::new("fraud-detector").state_cleanup_delay(Duration::from_secs(60));
    /// # let _ = config;
    /// ```
    pub fn state_cleanup_delay(mut self, delay: Duration) -> Self {
        self.state_cleanup_delay = delay;
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

    /// Gives the record cache of this application (per running instance) `bytes` (10 MiB by
    /// default, as Kafka Streams' `statestore.cache.max.bytes`); 0 turns caching off.
    ///
    /// The stores of aggregations (non-windowed, tumbling and hopping windows) and of tables
    /// read from topics or made from streams are cached unless
    /// [`Materialized::with_caching_disabled`](crate::dsl::Materialized::with_caching_disabled)
    /// says otherwise: updates to one key (and window) are folded in memory and written to the
    /// store and its changelog, and forwarded downstream as one change (from the value at the
    /// last flush to the latest), at each commit or when the cache evicts the key. So a hot key
    /// costs one changelog record and one downstream record per commit interval; with caching
    /// off every update is written and forwarded at once. One budget is shared by all stream
    /// threads and stores of the instance (Kafka Streams divides it among its threads); a write
    /// that exceeds it evicts the least recently written entries of the store written, flushing
    /// that store's dirty entries first. See the [state](crate::state) docs.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::runtime::StreamsConfig;
    ///
    /// // Every update of an aggregation reaches the output topic (and the changelog).
    /// let config = StreamsConfig::new("fraud-detector").cache_max_bytes(0);
    /// # let _ = config;
    /// ```
    pub fn cache_max_bytes(mut self, bytes: usize) -> Self {
        self.cache_max_bytes = bytes;
        self
    }

    /// The default of [`cache_max_bytes`](Self::cache_max_bytes): 10 MiB.
    pub const DEFAULT_CACHE_MAX_BYTES: usize = 10 << 20;

    /// Keeps the stores that name no backend (no
    /// [`Materialized::with_backend`](crate::dsl::Materialized::with_backend)) in `backend`:
    /// [`StoreBackend::RocksDb`] by default, as Kafka Streams (`InMemory` when streamz is built
    /// without its `rocksdb` feature). Suppression buffers stay in memory.
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
        let env =
            StoreEnv::new(self.state_dir.join(&self.application_id)).with_default_backend(self.default_store_backend);
        #[cfg(feature = "rocksdb")]
        let env = env.with_memory(RocksDbMemory::new(self.store_memory));
        env
    }

    /// Replication factor of the internal topics the application creates (repartition topics,
    /// changelogs): by default (`-1`) the broker's `default.replication.factor`, as Kafka
    /// Streams' `replication.factor`. Set it on a cluster whose default does not suit them
    /// (e.g. 3 where the default is 1).
    pub fn replication_factor(mut self, n: i32) -> Self {
        self.replication_factor = n;
        self
    }

    /// What to do with records with a negative timestamp (fail by default).
    pub fn timestamp_policy(mut self, policy: TimestampPolicy) -> Self {
        self.policies.timestamp = policy;
        self
    }

    /// What to do with input records whose key or value does not decode (fail by default);
    /// a source can override it with
    /// [`Consumed::with_error_policy`](crate::dsl::Consumed::with_error_policy).
    #[doc(alias = "default.deserialization.exception.handler")]
    pub fn deserialization_error_policy(mut self, policy: ErrorPolicy) -> Self {
        self.policies.deserialization = policy;
        self
    }

    /// What to do when a processor fails on a record ([`StreamsError::Processing`]) or panics
    /// (fail by default).
    ///
    /// [`StreamsError::Processing`]: crate::StreamsError::Processing
    #[doc(alias = "processing.exception.handler")]
    pub fn processing_error_policy(mut self, policy: ErrorPolicy) -> Self {
        self.policies.processing = policy;
        self
    }

    /// What to do with output records a sink cannot encode or the producer rejects (fail by
    /// default). Retriable send errors are retried whatever the policy.
    #[doc(alias = "default.production.exception.handler")]
    pub fn production_error_policy(mut self, policy: ProductionErrorPolicy) -> Self {
        self.policies.production = policy;
        self
    }

    /// Waits at most this long for the cluster at start (10 s by default).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Keeps this many standby replicas of every stateful task (0 by default): other
    /// instances of the application hold a copy of the task's stores, kept up to date from
    /// its changelogs, so that when the task moves to one of them (its instance failed or
    /// left) it restores only what the copy had not read yet instead of the whole changelog.
    ///
    /// Standbys are placed next to the consumer group's assignment, which librdkafka's
    /// built-in assignors make without knowing about them: the instance taking a failed
    /// task over holds its standby when the application keeps as many standbys as it has
    /// other instances, and otherwise only when the assignor happens to pick an instance
    /// that holds one. See `docs/running.md`, "Standby replicas".
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::runtime::StreamsConfig;
    ///
    /// // Two instances: each keeps a copy of the other's state.
    /// let config = StreamsConfig::new("fraud-detector").num_standby_replicas(1);
    /// # let _ = config;
    /// ```
    #[doc(alias = "num.standby.replicas")]
    pub fn num_standby_replicas(mut self, replicas: usize) -> Self {
        self.num_standby_replicas = replicas;
        self
    }

    /// How long a commit may wait for the cluster (30 s by default; in Kafka Streams the
    /// producer's `max.block.ms`, 60 s, plays this part): flushing the producer, and under
    /// exactly-once each transactional call (sending the offsets, committing or aborting),
    /// retriable errors retried meanwhile. A transactional call still failing after it has an
    /// uncertain outcome: the thread replaces its producer (which settles the transaction),
    /// and its tasks start again from the last commit, as for a fenced producer.
    #[doc(alias = "max.block.ms")]
    pub fn commit_timeout(mut self, timeout: Duration) -> Self {
        self.commit_timeout = timeout;
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

/// `<host name>-<process id>`, with `-<n>` for the `n`-th application of the process after
/// the first.
fn default_instance_id(n: u32) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
        .unwrap_or_else(|| "localhost".into());
    match n {
        0 => format!("{host}-{}", std::process::id()),
        n => format!("{host}-{}-{n}", std::process::id()),
    }
}
