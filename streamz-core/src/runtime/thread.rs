//! A stream thread: one consumer of the group, the tasks of its partitions, one producer.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::app::AppShared;
use super::eos::new_producer;
use super::restore_batch::RestoreBatch;
use super::StreamsConfig;
use super::{ProcessingGuarantee, RestoreProgress};
use crate::kafka::{
    consumer_config, restore_consumer_config, KafkaAdmin, KafkaCollector, OffsetCommitter, PartitionEvents,
    RestoreConsumer, RestoreJob, Restored, SharedProducer, StreamConsumer,
};
use crate::record::RawRecord;
use crate::task::{lock, FastMap, StoreEntry, Task, TaskId};
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
pub(super) struct ThreadCore {
    pub(super) env: ThreadEnv,
    pub(super) index: usize,
    /// The thread's client id (prefix of its clients' ids).
    pub(super) client_id: String,
    pub(super) producer: SharedProducer,
    /// Reads changelogs to restore the stores of new tasks.
    restore: RestoreConsumer,
    pub(super) tasks: BTreeMap<TaskId, Task>,
    /// Resolved topic → the sub-topologies reading it.
    readers: FastMap<String, Vec<u32>>,
    /// Next offset to commit per input partition.
    pub(super) offsets: BTreeMap<(Arc<str>, i32), i64>,
    /// The offsets committed last, so that only moved ones are committed again.
    pub(super) committed: BTreeMap<(Arc<str>, i32), i64>,
    /// An error raised inside a rebalance callback, reported by the thread's loop.
    error: Option<StreamsError>,
    /// Deletes consumed records of repartition topics; the topics and when it last ran.
    purge: Option<(KafkaAdmin, Vec<String>, Instant)>,
    /// Set when the thread failed: nothing more is processed or committed, so the records
    /// from the failed one on are read again after a restart.
    failed: bool,
    /// When the first thread last looked for task directories to delete.
    last_cleanup: Instant,
    /// When the logged stores last wrote their changes (see [`ThreadCore::commit`]).
    last_store_write: Instant,
}

/// Under exactly-once, how long logged stores keep their committed changes in memory
/// between two writes (see [`ThreadCore::commit`]).
const EOS_STORE_WRITE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// How often the first thread looks for the state of tasks that moved away.
const CLEANUP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Consecutive records of one partition in a batch: the tasks reading them, and the offset
/// after the last one.
struct Run {
    topic: Arc<str>,
    partition: i32,
    readers: Vec<TaskId>,
    next_offset: i64,
}

impl Run {
    /// Whether `raw` belongs to this run: it is of the same partition.
    fn holds(&self, raw: &RawRecord) -> bool {
        self.partition == raw.partition && (Arc::ptr_eq(&self.topic, &raw.topic) || self.topic == raw.topic)
    }
}

impl ThreadCore {
    /// Adds each record of `batch` to the tasks reading its partition, and notes the offset
    /// to commit. A batch holds runs of records of one partition: the readers and the offset
    /// are looked up once per run.
    fn add_batch(&mut self, batch: Vec<RawRecord>) -> Result<()> {
        let mut run: Option<Run> = None;
        for raw in batch {
            let current = match &mut run {
                Some(r) if r.holds(&raw) => r,
                _ => {
                    if let Some(done) = run.take() {
                        self.note_offset(done);
                    }
                    run.insert(self.run_of(&raw)?)
                }
            };
            current.next_offset = raw.offset + 1;
            // A record of a partition revoked while it was being fetched is not processed
            // here: its new owner reads it again from the committed offset.
            if let Some((last, rest)) = current.readers.split_last() {
                for id in rest {
                    if let Some(task) = self.tasks.get_mut(id) {
                        task.add_record(raw.clone())?;
                    }
                }
                if let Some(task) = self.tasks.get_mut(last) {
                    task.add_record(raw)?;
                }
            }
        }
        if let Some(done) = run {
            self.note_offset(done);
        }
        Ok(())
    }

    /// The tasks of this thread that read the partition of `raw`.
    fn run_of(&self, raw: &RawRecord) -> Result<Run> {
        let Some(subs) = self.readers.get(&*raw.topic) else {
            return Err(StreamsError::Bug(format!("got a record of topic `{}` no sub-topology reads", raw.topic)));
        };
        let partition = raw.partition;
        let readers = subs
            .iter()
            .map(|&subtopology| TaskId { subtopology, partition })
            .filter(|id| self.tasks.contains_key(id))
            .collect();
        Ok(Run { topic: raw.topic.clone(), partition, readers, next_offset: raw.offset + 1 })
    }

    fn note_offset(&mut self, run: Run) {
        self.offsets.insert((run.topic, run.partition), run.next_offset);
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

    /// Commits: flush stores, then the producer, then commit the offsets that moved (under
    /// exactly-once, with the producer's transaction), then commit the stores with their
    /// checkpoints.
    ///
    /// Under exactly-once, a commit every 100 ms would write each store's changes as often,
    /// with little overwritten in between: logged stores write theirs at most every
    /// [`EOS_STORE_WRITE_INTERVAL`] (and at every `final_` commit, before tasks close),
    /// keeping them in memory until then. Their changelogs hold them (committed), and a
    /// store's checkpoint only moves when it writes, so after a crash or an aborted
    /// transaction the restore replays them.
    fn commit(&mut self, committer: &dyn OffsetCommitter, final_: bool) -> Result<()> {
        for task in self.tasks.values_mut() {
            task.flush()?;
        }
        let timeout = self.env.config.commit_timeout;
        self.producer.flush(timeout)?;
        let acked = self.producer.take_changelog_offsets();
        let offsets: Vec<(Arc<str>, i32, i64)> = self
            .offsets
            .iter()
            .filter(|(tp, o)| self.committed.get(*tp) != Some(*o))
            .map(|((t, p), o)| (t.clone(), *p, *o))
            .collect();
        match self.env.config.processing_guarantee {
            ProcessingGuarantee::ExactlyOnce => {
                if self.producer.commit_transaction(&offsets, committer.group_metadata().as_ref(), timeout)? {
                    self.env.shared.metrics.add("committed-transactions", 1);
                }
            }
            _ => committer.commit(&offsets)?,
        }
        for (t, p, o) in &offsets {
            self.committed.insert((t.clone(), *p), *o);
        }
        // Only now do the stores write what they changed, with their changelog offsets: a
        // crash before this point finds them at the previous commit.
        let logged = final_
            || self.env.config.processing_guarantee != ProcessingGuarantee::ExactlyOnce
            || self.last_store_write.elapsed() >= EOS_STORE_WRITE_INTERVAL;
        for task in self.tasks.values_mut() {
            task.commit_stores(&acked, logged)?;
        }
        if logged {
            self.last_store_write = Instant::now();
        }
        self.env.shared.metrics.add("commits", 1);
        self.purge_repartition_topics(&offsets);
        if self.index == 0 && self.last_cleanup.elapsed() >= CLEANUP_INTERVAL {
            self.last_cleanup = Instant::now();
            let deleted = lock(&self.env.shared.state_dir).clean(self.env.config.state_cleanup_delay);
            if !deleted.is_empty() {
                tracing::info!(tasks = ?deleted, "deleted the local state of tasks that moved away");
            }
        }
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

    /// The tasks reading `partitions` (topic and partition).
    pub(super) fn task_ids(&self, partitions: &[(String, i32)]) -> Vec<TaskId> {
        let mut ids = Vec::new();
        for (topic, partition) in partitions {
            for &sub in self.readers.get(topic).into_iter().flatten() {
                ids.push(TaskId { subtopology: sub, partition: *partition });
            }
        }
        ids
    }

    /// Creates the tasks `ids` that are not running yet, restores their stores from
    /// their changelogs, then adds them to the thread.
    pub(super) fn create_tasks(&mut self, ids: &[TaskId]) -> Result<()> {
        let mut created = Vec::new();
        for &id in ids {
            if self.tasks.contains_key(&id) || created.iter().any(|(c, _)| *c == id) {
                continue;
            }
            created.push((id, self.open_task(id)?));
        }
        self.restore_stores(&created)?;
        self.tasks.extend(created);
        Ok(())
    }

    /// Builds task `id`, its stores opened in its directory.
    fn open_task(&mut self, id: TaskId) -> Result<Task> {
        let env = TaskEnv {
            collector: Box::new(KafkaCollector::new(self.producer.clone())),
            metrics: self.env.shared.metrics.clone(),
            wall_clock: Timestamp::now(),
            policies: self.env.config.policies.clone(),
            globals: self.env.globals.clone(),
            stores: self.env.stores.clone(),
        };
        // Not while a cleanup deletes task directories.
        let mut dir = lock(&self.env.shared.state_dir);
        // A standby of the task here hands its stores over, with their checkpoints.
        self.env.shared.standbys.release(id, &mut dir);
        dir.opened(id);
        let task = self.env.topology.create_task(&self.env.plan, id, false, env)?;
        tracing::debug!(thread = self.index, task = %id, "created task");
        Ok(task)
    }

    /// Restores every logged store of `tasks` from its changelog partition, from the store's
    /// checkpoint (its beginning when the store has none, or one outside the partition's
    /// offsets, after clearing the store) to the end offset at this moment, before the tasks
    /// process anything. Commits a store every batch ([`RestoreBatch`]).
    fn restore_stores(&self, tasks: &[(TaskId, Task)]) -> Result<()> {
        let started = Instant::now();
        let mut stores: Vec<StoreRestore<'_>> = Vec::new();
        for (id, task) in tasks {
            let mut named: Vec<(&String, &StoreEntry)> = task.ctx.stores.iter().collect();
            named.sort_by(|a, b| a.0.cmp(b.0));
            for (name, entry) in named {
                let Some(topic) = entry.changelog_topic() else { continue };
                stores.push(StoreRestore { id: *id, name, topic, entry, checkpoint: entry.control.checkpoint() });
            }
        }
        let listener = self.env.config.restore_listener.as_ref().map(|l| &*l.0);
        while !stores.is_empty() {
            let mut batches: Vec<RestoreBatch<'_>> = stores
                .iter()
                .map(|s| RestoreBatch::new(s.name, s.id, s.topic, s.entry, s.checkpoint, listener))
                .collect();
            let mut jobs: Vec<RestoreJob<'_>> = batches
                .iter_mut()
                .map(|b| RestoreJob {
                    topic: b.topic,
                    partition: b.id.partition,
                    checkpoint: b.checkpoint,
                    sink: b,
                    outcome: None,
                })
                .collect();
            self.restore.restore_all(&mut jobs)?;
            let outcomes: Vec<Option<Option<Restored>>> = jobs.into_iter().map(|j| j.outcome).collect();
            let mut again = Vec::new();
            for (mut store, outcome) in stores.into_iter().zip(outcomes) {
                match outcome {
                    Some(Some(restored)) => self.restored(&store, restored, started)?,
                    Some(None) => {
                        tracing::warn!(task = %store.id, store = %store.name, checkpoint = ?store.checkpoint, "checkpoint outside the changelog: restoring from the beginning");
                        store.entry.control.clear()?;
                        store.checkpoint = None;
                        again.push(store);
                    }
                    None => {
                        return Err(StreamsError::Bug(format!("the restore of store `{}` did not end", store.name)))
                    }
                }
            }
            stores = again;
        }
        Ok(())
    }

    /// After a store's restore: commits it with its checkpoint, counts and reports it.
    fn restored(&self, store: &StoreRestore<'_>, restored: Restored, started: Instant) -> Result<()> {
        store.entry.control.commit(Some(restored.end))?;
        self.env.shared.metrics.add("restored-records", restored.records);
        if let Some(listener) = &self.env.config.restore_listener {
            let progress = RestoreProgress {
                store: store.name,
                task: store.id,
                topic: store.topic,
                partition: store.id.partition,
                start_offset: restored.from,
                end_offset: restored.end,
                from_checkpoint: store.checkpoint.is_some(),
                restored: restored.records,
            };
            listener.0.on_restore_end(&progress, started.elapsed());
        }
        tracing::info!(
            thread = self.index,
            task = %store.id,
            store = %store.name,
            partition = store.id.partition,
            from_offset = restored.from,
            end_offset = restored.end,
            from_checkpoint = store.checkpoint.is_some(),
            records = restored.records,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "restored store from its changelog"
        );
        Ok(())
    }

    pub(super) fn close_all(&mut self) {
        for (id, mut task) in std::mem::take(&mut self.tasks) {
            task.close();
            drop(task);
            lock(&self.env.shared.state_dir).closed(id);
            tracing::debug!(thread = self.index, task = %id, "closed task");
        }
        self.offsets.clear();
        self.committed.clear();
    }
}

/// A logged store of a new task, to restore.
struct StoreRestore<'a> {
    id: TaskId,
    name: &'a str,
    topic: &'a str,
    entry: &'a StoreEntry,
    checkpoint: Option<i64>,
}

/// The rebalance callbacks of a thread's consumer.
struct Events {
    core: Arc<Mutex<ThreadCore>>,
    generation: AtomicU64,
}

impl PartitionEvents for Events {
    fn revoked(&self, partitions: &[(String, i32)], committer: &dyn OffsetCommitter) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut core = lock(&self.core);
        core.env.shared.thread_running(core.index, false);
        tracing::info!(thread = core.index, partitions = partitions.len(), "partitions revoked");
        if core.failed {
            core.close_all();
            return;
        }
        let result = core.process().and_then(|_| core.commit(committer, true));
        match result {
            Ok(()) => {}
            // Nothing of the transaction is committed: the new owner starts from the last
            // commit. A fenced producer is replaced by the thread's loop.
            Err(e @ StreamsError::Transaction { .. }) => {
                tracing::warn!(thread = core.index, error = %e, "cannot commit revoked partitions, aborting");
                core.producer.abort_transaction(std::time::Duration::from_secs(30));
                if matches!(e, StreamsError::Transaction { fenced: true, .. }) {
                    core.error.get_or_insert(e);
                }
            }
            // The partitions move on anyway: their new owner processes what was not committed
            // again (at-least-once), so a failed commit here is not fatal.
            Err(e @ StreamsError::Kafka { .. }) => {
                tracing::warn!(thread = core.index, error = %e, "cannot commit revoked partitions")
            }
            Err(e) => {
                core.error.get_or_insert(e);
            }
        }
        core.close_all();
    }

    fn lost(&self, partitions: &[(String, i32)]) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut core = lock(&self.core);
        core.env.shared.thread_running(core.index, false);
        tracing::warn!(thread = core.index, partitions = partitions.len(), "partitions lost");
        core.abandon_all();
    }

    fn assigned(&self, partitions: &[(String, i32)]) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut core = lock(&self.core);
        tracing::info!(thread = core.index, partitions = partitions.len(), "partitions assigned");
        let ids = core.task_ids(partitions);
        if let Err(e) = core.create_tasks(&ids) {
            core.error.get_or_insert(e);
        }
        core.env.shared.thread_running(core.index, true);
    }
}

/// How many transactions in a row may fail, with no commit between them, before the thread
/// gives up.
pub(super) const MAX_FAILED_TRANSACTIONS: u32 = 5;

/// Runs stream thread `index` until the application shuts down or fails.
pub(crate) fn run(index: usize, env: ThreadEnv) {
    let shared = env.shared.clone();
    if let Err(e) = run_loop(index, env) {
        tracing::error!(thread = index, error = %e, "stream thread failed");
        shared.fail(e);
    }
}

fn run_loop(index: usize, env: ThreadEnv) -> Result<()> {
    // `<application id>-<instance id>-StreamThread-<n>`: standby replicas find each
    // member's instance in its client id.
    let client_id =
        format!("{}-{}-StreamThread-{}", env.config.application_id, env.config.effective_instance_id(), index + 1);
    let producer = new_producer(&env.config, &env.bootstrap, &client_id, index)?;
    let mut readers: FastMap<String, Vec<u32>> = FastMap::default();
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
        client_id: client_id.clone(),
        producer,
        restore,
        tasks: BTreeMap::new(),
        readers,
        offsets: BTreeMap::new(),
        committed: BTreeMap::new(),
        error: None,
        purge,
        failed: false,
        last_cleanup: Instant::now(),
        last_store_write: Instant::now(),
    }));
    let events = Arc::new(Events { core: core.clone(), generation: AtomicU64::new(0) });
    let mut consumer = StreamConsumer::new(
        &consumer_config(&config, &core_bootstrap(&core), &format!("{client_id}-consumer")),
        events.clone(),
        config.commit_timeout,
    )?;
    consumer.subscribe(&topics)?;
    let mut last_commit = Instant::now();
    // Failed transactions in a row with no commit between them, and the commit count then.
    let (mut failures, mut commits) = (0, u64::MAX);
    let result = (|| {
        while !shared.is_shutting_down() {
            match step(&core, &events, &config, &mut consumer, &mut last_commit) {
                Ok(()) => {}
                Err(StreamsError::Transaction { message, fenced, migrated }) => {
                    // A group that moved on (this member paused past its session timeout)
                    // fails every commit until the consumer rejoins: not a reason to give up.
                    if !migrated {
                        // Only a transaction that committed something counts as progress.
                        let now = shared.metrics.get("committed-transactions");
                        failures = if now == commits { failures + 1 } else { 1 };
                        commits = now;
                        // E.g. a record the broker always rejects: processing it again cannot
                        // help.
                        if failures > MAX_FAILED_TRANSACTIONS {
                            return Err(StreamsError::Transaction { message, fenced, migrated });
                        }
                    }
                    tracing::warn!(thread = index, fenced, migrated, error = %message, "transaction failed, recovering");
                    recover_retrying(&core, &consumer, fenced)?;
                    // The next commit comes a commit interval later, not at once: meanwhile
                    // the consumer can learn of a rebalance.
                    last_commit = Instant::now();
                }
                // E.g. the broker unreachable past a timeout, a restore that cannot reach its
                // changelog's end yet: never a reason to stop. What was not committed is done
                // again from the last commit (under exactly-once, its transaction aborted).
                Err(e) if e.is_retriable() => {
                    tracing::warn!(thread = index, error = %e, "stream thread error that may pass, recovering");
                    recover_retrying(&core, &consumer, false)?;
                    last_commit = Instant::now();
                }
                Err(e) => return Err(e),
            }
        }
        let mut core = lock(&core);
        core.process()?;
        core.commit(consumer.committer(), true)?;
        core.close_all();
        Ok(())
    })();
    if result.is_err() {
        let mut core = lock(&core);
        core.failed = true;
        // Nothing of the failed transaction is ever read by `read_committed` readers.
        core.producer.abort_transaction(config.commit_timeout);
    }
    consumer.unsubscribe();
    drop(consumer);
    result
}

/// The first pause between two attempts of a recovery that failed with an error that may
/// pass; it doubles after each attempt, up to [`RECOVERY_PAUSE_MAX`].
const RECOVERY_PAUSE_MIN: std::time::Duration = std::time::Duration::from_millis(100);
/// The longest pause between two attempts of a recovery.
const RECOVERY_PAUSE_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// Recovers the thread from its last commit after a failed transaction or an error that may
/// pass: settles the producer ([`ThreadCore::settle_producer`]: aborts the open transaction,
/// or replaces the producer when `fenced`), then starts the tasks again
/// ([`ThreadCore::restart_tasks`]). Retries each step with a growing pause for as long as it
/// fails with an error that may pass, until the application shuts down. Logs when a recovery has to
/// wait and when it ends; counts the attempts that failed (`recovery-retries`). Nothing is
/// processed or committed meanwhile.
///
/// # Errors
///
/// The first error that retrying cannot help.
fn recover_retrying(core: &Arc<Mutex<ThreadCore>>, consumer: &StreamConsumer, fenced: bool) -> Result<()> {
    let started = Instant::now();
    let index = lock(core).index;
    let shared = lock(core).env.shared.clone();
    let mut failures = 0u64;
    let mut pause = RECOVERY_PAUSE_MIN;
    let mut retry = |step: &str, result: Result<()>| -> Result<bool> {
        match result {
            Ok(()) => Ok(true),
            Err(e) if e.is_retriable() => {
                failures += 1;
                shared.metrics.add("recovery-retries", 1);
                if failures == 1 {
                    tracing::warn!(thread = index, step, error = %e, "cannot recover yet: retrying until it succeeds");
                } else {
                    tracing::debug!(thread = index, step, failures, error = %e, "recovery still failing");
                }
                let until = Instant::now() + pause;
                while Instant::now() < until && !shared.is_shutting_down() {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                pause = (pause * 2).min(RECOVERY_PAUSE_MAX);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    };
    // On shutdown the thread's loop ends: it commits nothing moved (the offsets were cleared).
    while !retry("settling the producer", lock(core).settle_producer(fenced))? {
        if shared.is_shutting_down() {
            return Ok(());
        }
    }
    while !retry("restarting the tasks", lock(core).restart_tasks(consumer))? {
        if shared.is_shutting_down() {
            return Ok(());
        }
    }
    let core = lock(core);
    if core.env.config.processing_guarantee == ProcessingGuarantee::ExactlyOnce {
        core.env.shared.metrics.add("aborted-transactions", 1);
    }
    match failures {
        0 => tracing::info!(thread = index, fenced, tasks = core.tasks.len(), "recovered from the last commit"),
        _ => tracing::info!(
            thread = index,
            fenced,
            tasks = core.tasks.len(),
            failures,
            took = ?started.elapsed(),
            "recovered from the last commit after retrying"
        ),
    }
    Ok(())
}

/// One turn of a thread's loop: poll a batch, process it, punctuate, commit when due.
fn step(
    core: &Arc<Mutex<ThreadCore>>,
    events: &Events,
    config: &StreamsConfig,
    consumer: &mut StreamConsumer,
    last_commit: &mut Instant,
) -> Result<()> {
    let generation = events.generation.load(Ordering::SeqCst);
    let batch = consumer.poll_batch(config.max_poll_records, config.poll_timeout, &|| {
        events.generation.load(Ordering::SeqCst) != generation
    })?;
    let mut core = lock(core);
    if let Some(e) = core.error.take() {
        return Err(e);
    }
    if events.generation.load(Ordering::SeqCst) == generation {
        core.add_batch(batch)?;
    }
    let processed = core.process()?;
    core.env.shared.metrics.add("records-processed", processed);
    core.producer.poll();
    core.punctuate(Timestamp::now())?;
    if last_commit.elapsed() >= config.effective_commit_interval() {
        match core.commit(consumer.committer(), false) {
            Ok(()) => {}
            // E.g. a rebalance under way: the offsets are committed at the next
            // commit, or when the partitions are revoked.
            Err(e) if e.is_retriable() => tracing::warn!(thread = core.index, error = %e, "commit failed, retrying"),
            Err(e) => return Err(e),
        }
        *last_commit = Instant::now();
    }
    Ok(())
}

fn core_bootstrap(core: &Arc<Mutex<ThreadCore>>) -> String {
    lock(core).env.bootstrap.clone()
}
