//! The driver: tasks, topics, wall clock.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::log::{Collector, Log};
use super::{TestInputTopic, TestOutputTopic};
use crate::error::{StreamsError, TopologyError};
use crate::record::{Headers, RawRecord, Timestamped};
use crate::serdes::Data;
#[cfg(feature = "rocksdb")]
use crate::state::RocksDbMemory;
use crate::state::{KeyValueStore, SessionStore, StoreBackend, StoreEnv, WindowStore, DEFAULT_STORE_MEMORY};
use crate::task::{
    lock, ErrorPolicy, FastMap, Metrics, Policies, ProductionErrorPolicy, StoreEntry, Task, TaskId, TimestampPolicy,
};
use crate::time::{Timestamp, Window};
use crate::topology::{Plan, TaskEnv, Topology};
use crate::Result;

/// The environment variable that, set to `rocksdb`, makes RocksDB the drivers' default store
/// backend (to run a whole test suite on RocksDB stores).
pub const STORE_BACKEND_ENV: &str = "STREAMZ_DRIVER_STORE_BACKEND";

/// Settings of a [`TopologyTestDriver`].
#[derive(Clone, Debug)]
pub struct DriverConfig {
    app_id: String,
    partitions: BTreeMap<String, i32>,
    wall_clock: Timestamp,
    policies: Policies,
    max_record_bytes: Option<usize>,
    default_store_backend: StoreBackend,
    store_memory: usize,
    cache_max_bytes: usize,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            app_id: "streamz-test".into(),
            partitions: BTreeMap::new(),
            wall_clock: Timestamp(0),
            policies: Policies::default(),
            max_record_bytes: None,
            default_store_backend: match std::env::var(STORE_BACKEND_ENV).as_deref() {
                #[cfg(feature = "rocksdb")]
                Ok("rocksdb") => StoreBackend::RocksDb,
                _ => StoreBackend::InMemory,
            },
            store_memory: DEFAULT_STORE_MEMORY,
            cache_max_bytes: 0,
        }
    }
}

impl DriverConfig {
    /// The application id (prefix of internal topics); `streamz-test` by default.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = app_id.into();
        self
    }

    /// Gives input topic `topic` `n` partitions (1 by default).
    pub fn partitions(mut self, topic: impl Into<String>, n: i32) -> Self {
        self.partitions.insert(topic.into(), n);
        self
    }

    /// Starts the wall clock at `time` (0 by default).
    pub fn wall_clock(mut self, time: Timestamp) -> Self {
        self.wall_clock = time;
        self
    }

    /// What to do with negative timestamps (fail by default).
    pub fn timestamp_policy(mut self, policy: TimestampPolicy) -> Self {
        self.policies.timestamp = policy;
        self
    }

    /// What to do with input records whose key or value does not decode (fail by default).
    pub fn deserialization_error_policy(mut self, policy: ErrorPolicy) -> Self {
        self.policies.deserialization = policy;
        self
    }

    /// What to do when a processor fails on a record or panics (fail by default).
    pub fn processing_error_policy(mut self, policy: ErrorPolicy) -> Self {
        self.policies.processing = policy;
        self
    }

    /// What to do with output records that cannot be encoded or are rejected (fail by default).
    pub fn production_error_policy(mut self, policy: ProductionErrorPolicy) -> Self {
        self.policies.production = policy;
        self
    }

    /// Rejects written records whose key, value and headers together exceed `bytes`, as a
    /// producer rejects a record larger than `message.max.bytes` (unlimited by default).
    pub fn max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record_bytes = Some(bytes);
        self
    }

    /// Keeps the stores that name no backend in `backend` ([`StoreBackend::InMemory`] by
    /// default, unlike an application, so that tests stay fast; [`StoreBackend::RocksDb`]
    /// when `$STREAMZ_DRIVER_STORE_BACKEND` is `rocksdb`). RocksDB stores live in a
    /// temporary directory of the driver, deleted when the driver is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    /// use streamz_core::state::StoreBackend;
    /// use streamz_core::testing::DriverConfig;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("words").group_by_key().count().to_stream().to("counts");
    /// let config = DriverConfig::default().default_store_backend(StoreBackend::RocksDb);
    /// let driver = TopologyTestDriver::with_config(builder.build()?, config)?;
    /// driver.input::<String, String>("words").pipe("hello".into(), "x".into(), 1)?;
    /// driver.input::<String, String>("words").pipe("hello".into(), "y".into(), 2)?;
    /// let counts = driver.output::<String, Option<i64>>("counts").read_values();
    /// assert_eq!(counts, [Some(1), Some(2)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn default_store_backend(mut self, backend: StoreBackend) -> Self {
        self.default_store_backend = backend;
        self
    }

    /// Bounds the memory of the driver's RocksDB stores (64 MiB by default).
    pub fn store_memory(mut self, bytes: usize) -> Self {
        self.store_memory = bytes;
        self
    }

    /// Gives the driver a record cache of `bytes`, as
    /// [`StreamsConfig::cache_max_bytes`](crate::runtime::StreamsConfig::cache_max_bytes) does
    /// an application. 0 by default (unlike an application): every update of an aggregation
    /// or table is forwarded at once, the reference output.
    ///
    /// With a cache, the driver commits only when asked
    /// ([`TopologyTestDriver::commit`]): until then the cached operators forward nothing
    /// (unless the cache evicts), and at the commit each updated key's change is forwarded once.
    ///
    /// # Examples
    ///
    /// ```
    /// use streamz_core::prelude::*;
    /// use streamz_core::testing::DriverConfig;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder.stream::<String, String>("words").group_by_key().count().to_stream().to("counts");
    /// let config = DriverConfig::default().cache_max_bytes(1 << 20);
    /// let driver = TopologyTestDriver::with_config(builder.build()?, config)?;
    /// let (words, counts) = (driver.input::<String, String>("words"), driver.output::<String, Option<i64>>("counts"));
    /// for word in ["a", "b", "a"] {
    ///     words.pipe(word.into(), "x".into(), 1)?;
    /// }
    /// assert!(counts.read_values().is_empty());
    /// driver.commit()?;
    /// // One change per key, in the order the keys were last updated.
    /// assert_eq!(counts.read_key_values(), [("b".to_string(), Some(1)), ("a".to_string(), Some(2))]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cache_max_bytes(mut self, bytes: usize) -> Self {
        self.cache_max_bytes = bytes;
        self
    }
}

pub(crate) struct Inner {
    pub(crate) plan: Plan,
    tasks: BTreeMap<TaskId, Task>,
    global_tasks: Vec<Task>,
    /// Topic → (global, sub-topology) reading it.
    readers: FastMap<String, Vec<(bool, u32)>>,
    pub(crate) log: Arc<Mutex<Log>>,
    wall_clock: Timestamp,
    metrics: Arc<Metrics>,
    /// Holds the RocksDB stores; declared last, so it is deleted after the tasks close them.
    state_dir: tempfile::TempDir,
}

/// Runs a topology in-process and deterministically.
///
/// Pipe records into input topics with explicit timestamps ([`TestInputTopic`]), read what
/// the topology wrote ([`TestOutputTopic`]), advance the wall clock, and inspect stores.
///
/// # Examples
///
/// ```
/// use streamz_core::prelude::*;
///
/// let builder = StreamsBuilder::new();
/// builder.stream::<String, i64>("in").map_values(|v| v * 2).to("out");
/// let driver = TopologyTestDriver::new(builder.build()?)?;
/// driver.input::<String, i64>("in").pipe("k".into(), 21, 1_000)?;
/// let out = driver.output::<String, i64>("out").read_records();
/// assert_eq!((out[0].value, out[0].timestamp), (42, Timestamp(1_000)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TopologyTestDriver {
    pub(crate) inner: Rc<RefCell<Inner>>,
}

impl std::fmt::Debug for TopologyTestDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopologyTestDriver").field("app_id", &self.inner.borrow().plan.app_id).finish_non_exhaustive()
    }
}

impl TopologyTestDriver {
    /// A driver of `topology` with the default configuration (one partition per topic).
    ///
    /// # Errors
    ///
    /// [`TopologyError`] (as [`StreamsError::Topology`]) when the topology cannot run, e.g.
    /// join inputs that are not co-partitioned; [`StreamsError`] when a processor's `init`
    /// fails.
    pub fn new(topology: Topology) -> Result<Self> {
        Self::with_config(topology, DriverConfig::default())
    }

    /// A driver of `topology` with `config`.
    ///
    /// # Errors
    ///
    /// As [`TopologyTestDriver::new`].
    pub fn with_config(topology: Topology, config: DriverConfig) -> Result<Self> {
        let plan = topology.plan(&config.app_id, |t| Some(config.partitions.get(t).copied().unwrap_or(1)))?;
        let plan = plan.with_cache(config.cache_max_bytes);
        let log = Arc::new(Mutex::new(Log::new(plan.partitions.clone())));
        let metrics = Arc::new(Metrics::default());
        let state_dir = tempfile::Builder::new()
            .prefix("streamz-driver-")
            .tempdir()
            .map_err(|e| StreamsError::Bug(format!("cannot create a temporary state directory: {e}")))?;
        let stores = StoreEnv::new(state_dir.path()).with_default_backend(config.default_store_backend);
        #[cfg(feature = "rocksdb")]
        let stores = stores.with_memory(RocksDbMemory::new(config.store_memory));
        let env = |globals: HashMap<String, StoreEntry>| TaskEnv {
            collector: Box::new(Collector { log: log.clone(), max_record_bytes: config.max_record_bytes }),
            metrics: metrics.clone(),
            wall_clock: config.wall_clock,
            policies: config.policies.clone(),
            globals,
            stores: stores.clone(),
        };
        let mut readers: FastMap<String, Vec<(bool, u32)>> = FastMap::default();
        let mut global_tasks = Vec::new();
        let mut globals = HashMap::new();
        for sub in &topology.global {
            let task = topology.create_task(
                &plan,
                TaskId { subtopology: sub.id, partition: -1 },
                true,
                env(HashMap::new()),
            )?;
            for name in &sub.stores {
                if let Some(entry) = task.ctx.stores.get(name) {
                    globals.insert(name.clone(), entry.clone());
                }
            }
            for t in &sub.source_topics {
                readers.entry(t.resolve(&config.app_id)).or_default().push((true, sub.id));
            }
            global_tasks.push(task);
        }
        let mut tasks = BTreeMap::new();
        for &id in &plan.tasks {
            tasks.insert(id, topology.create_task(&plan, id, false, env(globals.clone()))?);
        }
        for sub in &topology.subtopologies {
            for t in &sub.source_topics {
                readers.entry(t.resolve(&config.app_id)).or_default().push((false, sub.id));
            }
        }
        let inner =
            Inner { plan, tasks, global_tasks, readers, log, wall_clock: config.wall_clock, metrics, state_dir };
        Ok(TopologyTestDriver { inner: Rc::new(RefCell::new(inner)) })
    }

    /// The temporary directory holding the driver's RocksDB stores, as
    /// `<dir>/<task id>/<store>` (deleted when the driver is dropped).
    pub fn state_dir(&self) -> std::path::PathBuf {
        self.inner.borrow().state_dir.path().to_path_buf()
    }

    /// An input topic of `K`, `V` with their default serdes.
    pub fn input<K: Data, V: Data>(&self, topic: &str) -> TestInputTopic<K, V> {
        TestInputTopic::new(self.clone(), topic, K::default_serde(), V::default_serde())
    }

    /// An output topic of `K`, `V` with their default serdes. Reading consumes the records.
    pub fn output<K: Data, V: Data>(&self, topic: &str) -> TestOutputTopic<K, V> {
        TestOutputTopic::new(self.clone(), topic, K::default_serde(), V::default_serde())
    }

    /// Advances the wall clock by `by`, firing due wall-clock punctuations.
    ///
    /// # Errors
    ///
    /// The first error a punctuation or a processor raised.
    pub fn advance_wall_clock(&self, by: Duration) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.wall_clock = inner.wall_clock + by;
        let now = inner.wall_clock;
        for task in inner.tasks.values_mut() {
            task.punctuate_wall_clock(now)?;
        }
        inner.run()
    }

    /// The wall-clock time of the driver.
    pub fn wall_clock(&self) -> Timestamp {
        self.inner.borrow().wall_clock
    }

    /// Processes every queued record (after [`TestInputTopic::enqueue`]).
    ///
    /// # Errors
    ///
    /// The first error a processor raised.
    pub fn process(&self) -> Result<()> {
        self.inner.borrow_mut().run()
    }

    /// Commits every task as an application does each commit interval: processors forward
    /// what they held back (the record caches, see [`DriverConfig::cache_max_bytes`]), the
    /// changelog records are written and the stores flushed. Records this sends to topics the
    /// topology reads are processed, and the tasks committed again, until nothing is left.
    ///
    /// Without a cache a commit forwards nothing new: every record was already forwarded.
    ///
    /// # Errors
    ///
    /// The first error a processor or a store raised.
    pub fn commit(&self) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.run()?;
        loop {
            let inner = &mut *inner;
            for task in inner.global_tasks.iter_mut().chain(inner.tasks.values_mut()) {
                task.flush()?;
            }
            if lock(&inner.log).pending.is_empty() {
                return Ok(());
            }
            inner.run()?;
        }
    }

    /// The counters of the topology (records dropped by reason, ...).
    pub fn metrics(&self) -> BTreeMap<String, u64> {
        self.inner.borrow().metrics.snapshot()
    }

    /// Counter `name` (0 when never counted), e.g. `dropped-records`.
    pub fn metric(&self, name: &str) -> u64 {
        self.inner.borrow().metrics.get(name)
    }

    /// The plan the driver runs: internal topic names, partition counts, tasks.
    pub fn plan(&self) -> Plan {
        self.inner.borrow().plan.clone()
    }

    /// Every record written to `topic` so far, read or not, as bytes.
    pub fn raw_records(&self, topic: &str) -> Vec<RawRecord> {
        lock(&self.inner.borrow().log).records(topic).to_vec()
    }

    /// All entries of key-value store `name` over all tasks, in task then key-byte order.
    /// Works for stores of `V` and for the DSL's stores of timestamped `V`.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`] when no task has the store or its types differ.
    pub fn key_value_store<K: 'static, V: Clone + 'static>(&self, name: &str) -> Result<Vec<(K, V)>> {
        self.each_task(name, |task| {
            if let Ok(store) = task.ctx.store::<dyn KeyValueStore<K, Timestamped<V>>>(name) {
                return Ok(lock(&store).all().map(|(k, v)| (k, v.value)).collect());
            }
            let store = task.ctx.store::<dyn KeyValueStore<K, V>>(name)?;
            let all = lock(&store).all().collect();
            Ok(all)
        })
    }

    /// All entries of window store `name` with start in `[from, to]`, over all tasks.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`] when no task has the store or its types differ.
    pub fn window_store<K: 'static, V: Clone + 'static>(
        &self,
        name: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(K, Timestamp, V)>> {
        self.each_task(name, |task| {
            if let Ok(store) = task.ctx.store::<dyn WindowStore<K, Timestamped<V>>>(name) {
                return Ok(lock(&store).fetch_all(from, to).into_iter().map(|(k, s, v)| (k, s, v.value)).collect());
            }
            let store = task.ctx.store::<dyn WindowStore<K, V>>(name)?;
            let all = lock(&store).fetch_all(from, to);
            Ok(all)
        })
    }

    /// The sessions of `key` in session store `name`, over all tasks.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`] when no task has the store or its types differ.
    pub fn session_store<K: 'static, V: Clone + 'static>(&self, name: &str, key: &K) -> Result<Vec<(Window, V)>> {
        self.each_task(name, |task| {
            if let Ok(store) = task.ctx.store::<dyn SessionStore<K, Timestamped<V>>>(name) {
                return Ok(lock(&store).fetch(key).into_iter().map(|(w, v)| (w, v.value)).collect());
            }
            let store = task.ctx.store::<dyn SessionStore<K, V>>(name)?;
            let all = lock(&store).fetch(key);
            Ok(all)
        })
    }

    fn each_task<T>(&self, name: &str, f: impl Fn(&Task) -> Result<Vec<T>>) -> Result<Vec<T>> {
        let inner = self.inner.borrow();
        if let Some(global) = inner.global_tasks.iter().find(|g| g.ctx.stores.contains_key(name)) {
            return f(global);
        }
        let mut out = Vec::new();
        let mut found = false;
        for task in inner.tasks.values().filter(|t| t.ctx.stores.contains_key(name)) {
            found = true;
            out.extend(f(task)?);
        }
        if !found {
            return Err(StreamsError::State { store: name.into(), message: "no task has a store of that name".into() });
        }
        Ok(out)
    }

    /// Appends a record to `topic` and queues it at the tasks reading it.
    pub(crate) fn append(
        &self,
        topic: &str,
        partition: Option<i32>,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        timestamp: Timestamp,
        headers: Headers,
    ) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        let raw = lock(&inner.log).append(topic, partition, key, value, timestamp, headers);
        inner.route(raw)
    }
}

impl Inner {
    /// Hands `raw` to the tasks that read its topic.
    fn route(&mut self, raw: RawRecord) -> Result<()> {
        let Some(readers) = self.readers.get(&*raw.topic) else {
            return Ok(());
        };
        let mut raw = Some(raw);
        for (i, &(global, sub)) in readers.iter().enumerate() {
            // The last reader takes the record itself; the others get copies.
            let raw = if i + 1 == readers.len() { raw.take() } else { raw.clone() };
            let Some(raw) = raw else { break };
            let task = if global {
                self.global_tasks.get_mut(sub as usize)
            } else {
                self.tasks.get_mut(&TaskId { subtopology: sub, partition: raw.partition })
            };
            let task = task.ok_or_else(|| {
                StreamsError::Topology(TopologyError::Invalid {
                    operator: raw.topic.to_string(),
                    reason: format!(
                        "partition {} has no task (the topic has more partitions than the topology was planned with)",
                        raw.partition
                    ),
                })
            })?;
            task.add_record(raw)?;
        }
        Ok(())
    }

    /// Processes until no task has queued records and nothing is left to route.
    pub(crate) fn run(&mut self) -> Result<()> {
        loop {
            let mut busy = false;
            for task in self.global_tasks.iter_mut().chain(self.tasks.values_mut()) {
                while task.process_next()? {
                    busy = true;
                }
            }
            let pending: Vec<RawRecord> = lock(&self.log).pending.drain(..).collect();
            for raw in pending {
                busy = true;
                self.route(raw)?;
            }
            if !busy {
                // The driver commits whenever it has nothing left to process.
                for task in self.global_tasks.iter_mut().chain(self.tasks.values_mut()) {
                    task.commit_stores(&[], true)?;
                }
                return Ok(());
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self.tasks.values_mut().chain(self.global_tasks.iter_mut()) {
            task.close();
        }
    }
}
