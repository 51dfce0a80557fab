//! Global tables: every instance reads all partitions of their topics, first to the end (before
//! stream threads start), then continuously.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::app::AppShared;
use super::StreamsConfig;
use crate::kafka::{global_consumer_config, GlobalConsumer};
use crate::record::Headers;
use crate::task::{Metrics, RecordCollector, StoreEntry, Task, TaskId};
use crate::time::Timestamp;
use crate::topology::{Plan, TaskEnv, Topology};
use crate::{Result, StreamsError};

/// Global sub-topologies only update their stores; they write nowhere.
struct NoOutput;

impl RecordCollector for NoOutput {
    fn send(
        &mut self,
        topic: &str,
        _: Option<i32>,
        _: Option<&[u8]>,
        _: Option<&[u8]>,
        _: Timestamp,
        _: &Headers,
    ) -> Result<()> {
        Err(StreamsError::Bug(format!("a global table's processors wrote to topic `{topic}`")))
    }
}

struct GlobalTasks {
    tasks: Vec<Task>,
    readers: HashMap<String, usize>,
}

/// How far a read of the global topics got: the next offset of each partition it read
/// records of, and the partitions it found at their end.
struct Progress {
    next: Vec<(Arc<str>, i32, i64)>,
    at_end: Vec<(Arc<str>, i32)>,
}

impl GlobalTasks {
    fn apply(&mut self, consumer: &mut GlobalConsumer, timeout: Duration) -> Result<Progress> {
        let batch = consumer.poll_batch(10_000, timeout)?;
        let mut progress = Progress { next: Vec::new(), at_end: batch.at_end };
        for raw in batch.records {
            match progress.next.last_mut() {
                Some((topic, partition, next)) if *partition == raw.partition && Arc::ptr_eq(topic, &raw.topic) => {
                    *next = raw.offset + 1
                }
                _ => progress.next.push((raw.topic.clone(), raw.partition, raw.offset + 1)),
            }
            if let Some(&i) = self.readers.get(&*raw.topic) {
                self.tasks[i].add_record(raw)?;
                while self.tasks[i].process_next()? {}
            }
        }
        if !progress.next.is_empty() {
            // What a global store holds is rebuilt from its topic at each start: no checkpoint.
            for task in &mut self.tasks {
                task.commit_stores(&[], true)?;
            }
        }
        Ok(progress)
    }
}

/// Loads the global stores and keeps them up to date on a thread of their own. Returns the
/// stores to attach to every task.
pub(crate) fn start(
    topology: &Topology,
    plan: &Arc<Plan>,
    config: &StreamsConfig,
    bootstrap: &str,
    shared: &Arc<AppShared>,
    stores: &crate::state::StoreEnv,
) -> Result<(HashMap<String, StoreEntry>, Option<JoinHandle<()>>)> {
    if topology.global.is_empty() {
        return Ok((HashMap::new(), None));
    }
    let mut tasks = GlobalTasks { tasks: Vec::new(), readers: HashMap::new() };
    let mut globals = HashMap::new();
    let mut topics = Vec::new();
    for sub in &topology.global {
        let env = TaskEnv {
            collector: Box::new(NoOutput),
            metrics: Arc::new(Metrics::default()),
            wall_clock: Timestamp::now(),
            policies: config.policies.clone(),
            globals: HashMap::new(),
            stores: stores.clone(),
        };
        let task = topology.create_task(plan, TaskId { subtopology: sub.id, partition: -1 }, true, env)?;
        for name in &sub.stores {
            if let Some(entry) = task.ctx.stores.get(name) {
                globals.insert(name.clone(), entry.clone());
            }
        }
        for t in &sub.source_topics {
            let name = t.resolve(&config.application_id);
            tasks.readers.insert(name.clone(), tasks.tasks.len());
            topics.push(name);
        }
        tasks.tasks.push(task);
    }
    let client = format!("{}-global", config.application_id);
    let (mut consumer, ends) = GlobalConsumer::assign_all(
        &global_consumer_config(config, bootstrap, &client),
        &topics,
        config.startup_timeout,
    )?;
    // Loaded when every partition's records up to its end offset were applied (or the
    // consumer found it at its end: its last offsets can be transaction markers, or deleted).
    let mut remaining: HashMap<(Arc<str>, i32), i64> =
        ends.into_iter().filter(|(_, _, high)| *high > 0).map(|(t, p, high)| ((Arc::from(t), p), high)).collect();
    let deadline = Instant::now() + config.startup_timeout.max(Duration::from_secs(60));
    while !remaining.is_empty() {
        if Instant::now() > deadline {
            let behind: Vec<String> = remaining.keys().map(|(t, p)| format!("`{t}` [{p}]")).collect();
            return Err(StreamsError::Kafka {
                message: format!(
                    "global tables not loaded in time: partitions {} not read to their end",
                    behind.join(", ")
                ),
                retriable: true,
            });
        }
        let progress = tasks.apply(&mut consumer, Duration::from_millis(200))?;
        for (topic, partition, next) in progress.next {
            let key = (topic, partition);
            if remaining.get(&key).is_some_and(|&high| next >= high) {
                remaining.remove(&key);
            }
        }
        for key in progress.at_end {
            remaining.remove(&key);
        }
    }
    let shared = shared.clone();
    let handle = std::thread::Builder::new()
        .name(format!("{}-GlobalStreamThread", config.application_id))
        .spawn(move || {
            while !shared.is_shutting_down() {
                if let Err(e) = tasks.apply(&mut consumer, Duration::from_millis(100)) {
                    shared.fail(e);
                    return;
                }
            }
        })
        .map_err(|e| StreamsError::Bug(format!("cannot start the global thread: {e}")))?;
    Ok((globals, Some(handle)))
}
