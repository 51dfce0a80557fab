//! A stream thread: one consumer of the group, the tasks of its partitions, one producer.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::app::AppShared;
use super::StreamsConfig;
use crate::kafka::{
    consumer_config, producer_config, restore_consumer_config, KafkaAdmin, KafkaCollector, PartitionEvents,
    RestoreConsumer, SharedProducer, StreamConsumer,
};
use crate::record::RawRecord;
use crate::task::{lock, StoreEntry, Task, TaskId};
use crate::time::Timestamp;
use crate::topology::{Plan, TaskEnv, Topology};
use crate::{Result, StreamsError};

/// What every stream thread of an application shares.
#[derive(Clone)]
pub(crate) struct ThreadEnv {
    pub(crate) topology: Arc<Topology>,
    pub(crate) plan: Arc<Plan>,
    pub(crate) config: StreamsConfig,
    pub(crate) bootstrap: String,
    pub(crate) shared: Arc<AppShared>,
    pub(crate) globals: HashMap<String, StoreEntry>,
    /// The application's stores: directory, default backend, shared RocksDB memory.
    pub(crate) stores: crate::state::StoreEnv,
}

/// The tasks of a thread and the offsets they have processed.
struct ThreadCore {
    env: ThreadEnv,
    index: usize,
    producer: SharedProducer,
    /// Reads changelogs to restore the stores of new tasks.
    restore: RestoreConsumer,
    tasks: BTreeMap<TaskId, Task>,
    /// Resolved topic → the sub-topologies reading it.
    readers: HashMap<String, Vec<u32>>,
    /// Next offset to commit per input partition.
    offsets: BTreeMap<(Arc<str>, i32), i64>,
    /// An error raised inside a rebalance callback, reported by the thread's loop.
    error: Option<StreamsError>,
    /// Deletes consumed records of repartition topics; the topics and when it last ran.
    purge: Option<(KafkaAdmin, Vec<String>, Instant)>,
}

impl ThreadCore {
    fn add(&mut self, raw: RawRecord) -> Result<()> {
        let Some(subs) = self.readers.get(&*raw.topic) else {
            return Err(StreamsError::Bug(format!("got a record of topic `{}` no sub-topology reads", raw.topic)));
        };
        self.offsets.insert((raw.topic.clone(), raw.partition), raw.offset + 1);
        for &sub in subs {
            let id = TaskId { subtopology: sub, partition: raw.partition };
            // A record of a partition revoked while it was being fetched is not processed
            // here: its new owner reads it again from the committed offset.
            if let Some(task) = self.tasks.get_mut(&id) {
                task.add_record(raw.clone())?;
            }
        }
        Ok(())
    }

    fn process(&mut self) -> Result<u64> {
        let mut n = 0;
        for task in self.tasks.values_mut() {
            while task.process_next()? {
                n += 1;
            }
        }
        Ok(n)
    }

    fn punctuate(&mut self, now: Timestamp) -> Result<()> {
        for task in self.tasks.values_mut() {
            task.punctuate_wall_clock(now)?;
        }
        Ok(())
    }

    /// At-least-once commit: flush stores, then the producer, then commit the offsets.
    fn commit(&mut self, commit: &dyn Fn(&[(Arc<str>, i32, i64)]) -> Result<()>) -> Result<()> {
        for task in self.tasks.values_mut() {
            task.flush()?;
        }
        self.producer.flush(self.env.config.startup_timeout.max(std::time::Duration::from_secs(30)))?;
        let offsets: Vec<(Arc<str>, i32, i64)> = self.offsets.iter().map(|((t, p), o)| (t.clone(), *p, *o)).collect();
        commit(&offsets)?;
        self.env.shared.metrics.add("commits", 1);
        self.purge_repartition_topics(&offsets);
        Ok(())
    }

    /// After a commit, deletes what was consumed of repartition topics (at most every
    /// `repartition_purge_interval`). A failure is logged, not fatal: it only delays cleanup.
    fn purge_repartition_topics(&mut self, committed: &[(Arc<str>, i32, i64)]) {
        let interval = self.env.config.repartition_purge_interval;
        let Some((admin, topics, last)) = &mut self.purge else { return };
        if last.elapsed() < interval {
            return;
        }
        *last = Instant::now();
        let consumed: Vec<(Arc<str>, i32, i64)> =
            committed.iter().filter(|(t, _, _)| topics.iter().any(|r| **r == **t)).cloned().collect();
        match admin.delete_records_before(&consumed) {
            Ok(()) => self.env.shared.metrics.add("repartition-purges", 1),
            Err(e) => tracing::warn!(thread = self.index, error = %e, "cannot purge repartition topics"),
        }
    }

    fn create_task(&mut self, id: TaskId) -> Result<()> {
        if self.tasks.contains_key(&id) {
            return Ok(());
        }
        let env = TaskEnv {
            collector: Box::new(KafkaCollector { producer: self.producer.clone() }),
            metrics: self.env.shared.metrics.clone(),
            wall_clock: Timestamp::now(),
            timestamp_policy: self.env.config.timestamp_policy,
            globals: self.env.globals.clone(),
            stores: self.env.stores.clone(),
        };
        let task = self.env.topology.create_task(&self.env.plan, id, false, env)?;
        tracing::debug!(thread = self.index, task = %id, "created task");
        self.restore_stores(id, &task)?;
        self.tasks.insert(id, task);
        Ok(())
    }

    /// Restores every logged store of `task` from its changelog partition, from the beginning
    /// to the end offset at this moment, before the task processes anything.
    fn restore_stores(&self, id: TaskId, task: &Task) -> Result<()> {
        let mut stores: Vec<(&String, &StoreEntry)> = task.ctx.stores.iter().collect();
        stores.sort_by(|a, b| a.0.cmp(b.0));
        for (name, entry) in stores {
            let Some(topic) = entry.changelog_topic() else { continue };
            let started = Instant::now();
            let restored = self.restore.restore(topic, id.partition, &mut |key, value| entry.restore(key, value))?;
            self.env.shared.metrics.add("restored-records", restored);
            tracing::info!(
                thread = self.index,
                task = %id,
                store = %name,
                partition = id.partition,
                records = restored,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "restored store from its changelog"
            );
        }
        Ok(())
    }

    fn close_all(&mut self) {
        for (id, mut task) in std::mem::take(&mut self.tasks) {
            task.close();
            tracing::debug!(thread = self.index, task = %id, "closed task");
        }
        self.offsets.clear();
    }
}

/// The rebalance callbacks of a thread's consumer.
struct Events {
    core: Arc<Mutex<ThreadCore>>,
    generation: AtomicU64,
}

impl PartitionEvents for Events {
    fn revoked(&self, partitions: &[(String, i32)], commit: &dyn Fn(&[(Arc<str>, i32, i64)]) -> Result<()>) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut core = lock(&self.core);
        core.env.shared.thread_running(core.index, false);
        tracing::info!(thread = core.index, partitions = partitions.len(), "partitions revoked");
        let result = core.process().and_then(|_| core.commit(commit));
        if let Err(e) = result {
            core.error.get_or_insert(e);
        }
        core.close_all();
    }

    fn assigned(&self, partitions: &[(String, i32)]) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut core = lock(&self.core);
        tracing::info!(thread = core.index, partitions = partitions.len(), "partitions assigned");
        for (topic, partition) in partitions {
            let subs = core.readers.get(topic).cloned().unwrap_or_default();
            for sub in subs {
                if let Err(e) = core.create_task(TaskId { subtopology: sub, partition: *partition }) {
                    core.error.get_or_insert(e);
                }
            }
        }
        core.env.shared.thread_running(core.index, true);
    }
}

/// Runs stream thread `index` until the application shuts down or fails.
pub(crate) fn run(index: usize, env: ThreadEnv) {
    let shared = env.shared.clone();
    if let Err(e) = run_loop(index, env) {
        tracing::error!(thread = index, error = %e, "stream thread failed");
        shared.fail(e);
    }
}

fn run_loop(index: usize, env: ThreadEnv) -> Result<()> {
    let client_id = format!("{}-StreamThread-{}", env.config.application_id, index + 1);
    let producer =
        SharedProducer::new(&producer_config(&env.config, &env.bootstrap, &format!("{client_id}-producer")))?;
    let mut readers: HashMap<String, Vec<u32>> = HashMap::new();
    for sub in &env.topology.subtopologies {
        for t in &sub.source_topics {
            readers.entry(t.resolve(&env.config.application_id)).or_default().push(sub.id);
        }
    }
    let mut topics: Vec<String> = readers.keys().cloned().collect();
    topics.sort();
    let shared = env.shared.clone();
    let config = env.config.clone();
    let repartitions: Vec<String> = env
        .plan
        .internal_topics
        .iter()
        .filter(|t| t.kind == crate::topology::InternalTopicKind::Repartition)
        .map(|t| t.name.clone())
        .collect();
    let embedded = config.embedded.is_some() || config.bootstrap_servers.is_none();
    let purge = match repartitions.is_empty() || embedded {
        true => None,
        false => Some((KafkaAdmin::new(&env.bootstrap, config.startup_timeout)?, repartitions, Instant::now())),
    };
    let restore_timeout = env.config.startup_timeout.max(std::time::Duration::from_secs(30));
    let restore = RestoreConsumer::new(
        &restore_consumer_config(&env.config, &env.bootstrap, &format!("{client_id}-restore-consumer")),
        restore_timeout,
    )?;
    let core = Arc::new(Mutex::new(ThreadCore {
        env,
        index,
        producer: producer.clone(),
        restore,
        tasks: BTreeMap::new(),
        readers,
        offsets: BTreeMap::new(),
        error: None,
        purge,
    }));
    let events = Arc::new(Events { core: core.clone(), generation: AtomicU64::new(0) });
    let mut consumer = StreamConsumer::new(
        &consumer_config(&config, &core_bootstrap(&core), &format!("{client_id}-consumer")),
        events.clone(),
    )?;
    consumer.subscribe(&topics)?;
    let mut last_commit = Instant::now();
    let result = (|| {
        while !shared.is_shutting_down() {
            let generation = events.generation.load(Ordering::SeqCst);
            let batch = consumer.poll_batch(config.max_poll_records, config.poll_timeout, &|| {
                events.generation.load(Ordering::SeqCst) != generation
            })?;
            let mut core = lock(&core);
            if let Some(e) = core.error.take() {
                return Err(e);
            }
            if events.generation.load(Ordering::SeqCst) == generation {
                for raw in batch {
                    core.add(raw)?;
                }
            }
            let processed = core.process()?;
            shared.metrics.add("records-processed", processed);
            producer.poll();
            core.punctuate(Timestamp::now())?;
            if last_commit.elapsed() >= config.commit_interval {
                match core.commit(&|offsets| consumer.commit(offsets)) {
                    Ok(()) => {}
                    // E.g. a rebalance under way: the offsets are committed at the next
                    // commit, or when the partitions are revoked.
                    Err(e) if e.is_retriable() => tracing::warn!(thread = index, error = %e, "commit failed, retrying"),
                    Err(e) => return Err(e),
                }
                last_commit = Instant::now();
            }
        }
        let mut core = lock(&core);
        core.process()?;
        core.commit(&|offsets| consumer.commit(offsets))?;
        core.close_all();
        Ok(())
    })();
    consumer.unsubscribe();
    drop(consumer);
    result
}

fn core_bootstrap(core: &Arc<Mutex<ThreadCore>>) -> String {
    lock(core).env.bootstrap.clone()
}
