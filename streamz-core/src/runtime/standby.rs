//! Standby replicas (`num_standby_replicas`): copies of the stores of stateful tasks that
//! other instances run, kept up to date by tailing their changelogs, so that a task failing
//! over to this instance restores only what its standby had not read yet.
//!
//! librdkafka assigns partitions with its built-in assignors (no custom assignor can be
//! plugged in), so standbys are placed beside the assignment instead of by it. Every
//! instance's standby thread describes the application's consumer group every few seconds,
//! derives from the members' assignments the instance running each stateful task, and ranks
//! the other instances for that task by a hash of the task and the instance id (rendezvous
//! hashing): the first `num_standby_replicas` of them keep a standby. Every instance computes
//! the same placement from the same description, with no coordination and no extra topic.
//!
//! The assignor does not know where standbys are: when an instance fails, its tasks go to the
//! members the assignor picks. With as many standbys as other instances, the new owner always
//! has one; with fewer, only when the assignor picks an instance holding one. A task moved
//! away from an instance becomes a standby there when the placement says so, starting from
//! the stores it left, and a standby becoming active hands its stores over with their
//! checkpoints, so the active task restores only the tail.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::restore_batch::{Uncommitted, RESTORE_BATCH_BYTES};
use super::state_dir::StateDirectory;
use super::thread::ThreadEnv;
use crate::kafka::{restore_consumer_config, start_offset, ChangelogTail, GroupMember};
use crate::task::{lock, FastMap, StoreEntry, TaskId};
use crate::Result;

/// How often the standby thread reads the group's assignment.
const REFRESH_INTERVAL: Duration = Duration::from_secs(2);

/// A standby store commits (writes what it read, with its checkpoint) after this many records,
/// [`COMMIT_BYTES`] of keys and values or [`COMMIT_INTERVAL`], whichever comes first.
const COMMIT_RECORDS: u64 = 10_000;
const COMMIT_BYTES: usize = RESTORE_BATCH_BYTES;
const COMMIT_INTERVAL: Duration = Duration::from_secs(10);

/// The standby tasks of an instance, shared by its standby thread (which keeps them up to
/// date) and its stream threads (which take their stores over when a task becomes active).
#[derive(Default)]
pub(crate) struct Standbys {
    tasks: Mutex<BTreeMap<TaskId, StandbyTask>>,
    /// Tasks handed over since the standby thread last looked: it stops tailing them.
    released: Mutex<Vec<TaskId>>,
}

struct StandbyTask {
    stores: Vec<StandbyStore>,
}

struct StandbyStore {
    name: String,
    topic: Arc<str>,
    entry: StoreEntry,
    /// The next changelog offset to apply, and the one the store last committed.
    next: i64,
    committed: i64,
    since_commit: Uncommitted,
}

impl Standbys {
    /// Hands the stores of task `id`, if it is a standby here, over to an active task about
    /// to open them: commits them with their checkpoints and closes them. Called with the
    /// state directory locked (`dir`), which also keeps the standby thread from opening the
    /// task again.
    pub(crate) fn release(&self, id: TaskId, dir: &mut StateDirectory) {
        let Some(mut task) = lock(&self.tasks).remove(&id) else { return };
        task.commit(true);
        drop(task);
        dir.closed(id);
        lock(&self.released).push(id);
        tracing::info!(task = %id, "standby task handed over to an active task");
    }

    /// The tasks kept as standbys here.
    pub(crate) fn ids(&self) -> Vec<TaskId> {
        lock(&self.tasks).keys().copied().collect()
    }
}

impl StandbyTask {
    /// Commits the stores that read records since their last commit (all of them when
    /// `all`, else those past [`COMMIT_RECORDS`]); a failure is logged: the store then
    /// reads the records again after its last checkpoint.
    fn commit(&mut self, all: bool) {
        for store in &mut self.stores {
            if store.next == store.committed || !(all || store.since_commit.records >= COMMIT_RECORDS) {
                continue;
            }
            store.commit();
        }
    }
}

impl StandbyStore {
    /// Applies the changelog record at `offset` (skipped when the store already holds it);
    /// commits at once after [`COMMIT_BYTES`], so large records do not pile up in memory.
    fn apply(&mut self, offset: i64, key: &[u8], value: Option<&[u8]>) -> Result<bool> {
        if offset < self.next {
            return Ok(false);
        }
        self.entry.restore(key, value)?;
        self.next = offset + 1;
        self.since_commit.add(key, value);
        if self.since_commit.bytes >= COMMIT_BYTES {
            self.commit();
        }
        Ok(true)
    }

    /// Writes what the store read, with its checkpoint; a failure is logged.
    fn commit(&mut self) {
        match self.entry.control.commit(Some(self.next)) {
            Ok(()) => {
                self.committed = self.next;
                self.since_commit = Uncommitted::default();
            }
            Err(e) => tracing::warn!(store = %self.name, error = %e, "cannot commit a standby store"),
        }
    }
}

/// Whether this instance (`me`) keeps a standby of each task in `owners` (task → instance
/// running it): for each task owned by another instance, the instances other than its owner
/// ranked by [`rank`]; the first `replicas` keep one.
pub(crate) fn placement(
    me: &str,
    owners: &BTreeMap<TaskId, String>,
    instances: &BTreeSet<String>,
    replicas: usize,
) -> BTreeSet<TaskId> {
    let mut mine = BTreeSet::new();
    for (&task, owner) in owners {
        if owner == me {
            continue;
        }
        let mut others: Vec<&String> = instances.iter().filter(|i| *i != owner).collect();
        others.sort_by_key(|i| std::cmp::Reverse((rank(task, i), *i)));
        if others.iter().take(replicas).any(|i| *i == me) {
            mine.insert(task);
        }
    }
    mine
}

/// The rendezvous weight of `instance` for `task`: FNV-1a of both, the same in every
/// process and build.
fn rank(task: TaskId, instance: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = task.subtopology.to_be_bytes().into_iter().chain(task.partition.to_be_bytes()).chain([0xff]);
    for b in bytes.chain(instance.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // A final mix, so that close inputs spread.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The instance id in a stream thread consumer's client id
/// (`<application id>-<instance id>-StreamThread-<n>-consumer`).
pub(crate) fn instance_of<'a>(client_id: &'a str, app_id: &str) -> Option<&'a str> {
    let rest = client_id.strip_prefix(app_id)?.strip_prefix('-')?;
    rest.rfind("-StreamThread-").map(|at| &rest[..at])
}

/// The owner of each stateful task, and every instance in the group.
fn owners(
    members: &[GroupMember],
    app_id: &str,
    stateful: &FastMap<String, Vec<u32>>,
) -> (BTreeMap<TaskId, String>, BTreeSet<String>) {
    let (mut owners, mut instances) = (BTreeMap::new(), BTreeSet::new());
    for m in members {
        let Some(instance) = instance_of(&m.client_id, app_id) else { continue };
        instances.insert(instance.to_string());
        for (topic, partition) in &m.partitions {
            for &sub in stateful.get(topic).into_iter().flatten() {
                owners.insert(TaskId { subtopology: sub, partition: *partition }, instance.to_string());
            }
        }
    }
    (owners, instances)
}

/// Runs the standby thread of an instance until it shuts down. Errors are logged and retried:
/// a standby only saves restore time, it never stops the application.
pub(crate) fn run(env: ThreadEnv) {
    let mut keeper = match Keeper::new(env) {
        Ok(keeper) => keeper,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the standby thread: no standby replicas on this instance");
            return;
        }
    };
    while !keeper.env.shared.is_shutting_down() {
        if let Err(e) = keeper.step() {
            tracing::warn!(error = %e, "standby replicas: retrying in 5 s");
            std::thread::sleep(Duration::from_secs(5));
        }
    }
    keeper.close_all();
}

/// The standby thread's state.
struct Keeper {
    env: ThreadEnv,
    me: String,
    tail: ChangelogTail,
    /// Resolved source topic → the stateful sub-topologies reading it.
    stateful: FastMap<String, Vec<u32>>,
    /// Changelog topic → partitions read, and the task of each.
    tailed: BTreeMap<Arc<str>, BTreeMap<i32, TaskId>>,
    last_refresh: Option<Instant>,
    last_commit: Instant,
}

impl Keeper {
    fn new(env: ThreadEnv) -> Result<Self> {
        let app = &env.config.application_id;
        let mut stateful: FastMap<String, Vec<u32>> = FastMap::default();
        for sub in &env.topology.subtopologies {
            if env.topology.logged_stores(sub.id).is_empty() {
                continue;
            }
            for topic in &sub.source_topics {
                stateful.entry(topic.resolve(app)).or_default().push(sub.id);
            }
        }
        let me = env.config.effective_instance_id();
        let client_id = format!("{app}-{me}-standby-consumer");
        let timeout = env.config.startup_timeout.max(Duration::from_secs(10));
        let tail = ChangelogTail::new(&restore_consumer_config(&env.config, &env.bootstrap, &client_id), timeout)?;
        Ok(Keeper { env, me, tail, stateful, tailed: BTreeMap::new(), last_refresh: None, last_commit: Instant::now() })
    }

    fn standbys(&self) -> &Standbys {
        &self.env.shared.standbys
    }

    fn step(&mut self) -> Result<()> {
        self.forget_released()?;
        if self.last_refresh.is_none_or(|at| at.elapsed() >= REFRESH_INTERVAL) {
            self.last_refresh = Some(Instant::now());
            self.refresh()?;
        }
        if self.tailed.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
            return Ok(());
        }
        let shared = self.env.shared.clone();
        let mut tasks = lock(&shared.standbys.tasks);
        let tailed = &self.tailed;
        let mut applied = 0;
        let mut apply = |topic: &str, partition: i32, offset: i64, key: &[u8], value: Option<&[u8]>| {
            let Some(id) = tailed.get(topic).and_then(|p| p.get(&partition)) else { return Ok(()) };
            let Some(task) = tasks.get_mut(id) else { return Ok(()) };
            let Some(store) = task.stores.iter_mut().find(|s| &*s.topic == topic) else { return Ok(()) };
            applied += u64::from(store.apply(offset, key, value)?);
            Ok(())
        };
        let result = self.tail.poll(10_000, Duration::from_millis(100), &mut apply);
        shared.metrics.add("standby-records", applied);
        result?;
        let all = self.last_commit.elapsed() >= COMMIT_INTERVAL;
        for task in tasks.values_mut() {
            task.commit(all);
        }
        drop(tasks);
        if all {
            self.last_commit = Instant::now();
        }
        Ok(())
    }

    /// Stops tailing the changelogs of tasks handed over to active tasks.
    fn forget_released(&mut self) -> Result<()> {
        let released = std::mem::take(&mut *lock(&self.standbys().released));
        for id in released {
            self.untail(id)?;
        }
        Ok(())
    }

    fn untail(&mut self, id: TaskId) -> Result<()> {
        for (topic, partitions) in &mut self.tailed {
            if partitions.get(&id.partition) == Some(&id) {
                partitions.remove(&id.partition);
                self.tail.remove(topic, id.partition)?;
            }
        }
        self.tailed.retain(|_, partitions| !partitions.is_empty());
        Ok(())
    }

    /// Reads the group's assignment and opens or closes standbys to match the placement.
    fn refresh(&mut self) -> Result<()> {
        let app = self.env.config.application_id.clone();
        let Some(members) = self.tail.group_members(&app)? else { return Ok(()) };
        let (owners, instances) = owners(&members, &app, &self.stateful);
        let wanted = placement(&self.me, &owners, &instances, self.env.config.num_standby_replicas);
        let current: BTreeSet<TaskId> = self.standbys().ids().into_iter().collect();
        for &id in current.difference(&wanted) {
            self.close(id)?;
        }
        for &id in wanted.difference(&current) {
            self.open(id)?;
        }
        Ok(())
    }

    /// Opens the stores of task `id` as a standby, unless the task is open here (active),
    /// and starts tailing their changelogs from their checkpoints.
    fn open(&mut self, id: TaskId) -> Result<()> {
        let shared = self.env.shared.clone();
        let mut dir = lock(&shared.state_dir);
        if dir.is_open(id) {
            return Ok(());
        }
        // Releases happen with the directory locked: none is pending after this.
        self.forget_released()?;
        let entries = self.env.topology.create_standby_stores(&self.env.plan, id, &self.env.stores)?;
        let mut stores = Vec::with_capacity(entries.len());
        for (name, entry) in entries {
            let Some(topic) = entry.changelog_topic().cloned() else { continue };
            let (low, high) = self.tail.offsets(&topic, id.partition)?;
            let checkpoint = entry.control.checkpoint();
            let next = match start_offset(checkpoint, low, high) {
                Some(offset) => offset,
                None => {
                    tracing::warn!(task = %id, store = %name, offset = ?checkpoint, "standby checkpoint outside the changelog: reading it from the beginning");
                    entry.control.clear()?;
                    low
                }
            };
            stores.push(StandbyStore {
                name,
                topic,
                entry,
                next,
                committed: next,
                since_commit: Uncommitted::default(),
            });
        }
        for store in &stores {
            self.tail.add(&store.topic, id.partition, store.next)?;
            self.tailed.entry(store.topic.clone()).or_default().insert(id.partition, id);
        }
        tracing::info!(task = %id, stores = stores.len(), "opened a standby task");
        dir.opened(id);
        lock(&self.standbys().tasks).insert(id, StandbyTask { stores });
        Ok(())
    }

    /// Closes standby task `id` (committing its stores) and stops tailing its changelogs.
    fn close(&mut self, id: TaskId) -> Result<()> {
        let shared = self.env.shared.clone();
        let mut dir = lock(&shared.state_dir);
        let Some(mut task) = lock(&self.standbys().tasks).remove(&id) else { return Ok(()) };
        task.commit(true);
        drop(task);
        dir.closed(id);
        drop(dir);
        tracing::info!(task = %id, "closed a standby task");
        self.untail(id)
    }

    fn close_all(&mut self) {
        for id in self.standbys().ids() {
            if let Err(e) = self.close(id) {
                tracing::warn!(task = %id, error = %e, "cannot close a standby task");
            }
        }
    }
}

#[cfg(test)]
#[path = "standby_tests.rs"]
mod tests;
