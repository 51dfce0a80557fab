//! Planning a topology for an application: topic names, partition counts, tasks.

use std::collections::BTreeMap;

use super::graph::TopicRef;
use super::Topology;
use crate::error::TopologyError;
use crate::task::TaskId;

/// What kind of internal topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InternalTopicKind {
    /// Carries records between sub-topologies (`<app>-<name>-repartition`).
    Repartition,
    /// Backs a store (`<app>-<store>-changelog`), compacted.
    Changelog,
    /// Backs a window or session store: compacted and deleted after the retention.
    WindowedChangelog {
        /// Retention of the topic (store retention + 1 day).
        retention_ms: i64,
    },
}

/// An internal topic to create, with its partition count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternalTopic {
    /// The full name (with the application id).
    pub name: String,
    /// Partitions.
    pub partitions: i32,
    /// Kind and configuration.
    pub kind: InternalTopicKind,
}

/// A topology planned for one application id and the partition counts of its input topics.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The application id.
    pub app_id: String,
    /// Partition counts of every topic the topology reads or writes that is known.
    pub partitions: BTreeMap<String, i32>,
    /// The internal topics.
    pub internal_topics: Vec<InternalTopic>,
    /// The tasks, by sub-topology and partition.
    pub tasks: Vec<TaskId>,
    /// The record cache budget shared by the application's cached stores; `None`: no caching.
    pub(crate) cache: Option<std::sync::Arc<crate::state::CacheBudget>>,
}

impl Plan {
    /// The plan with a record cache of `bytes` (0: caching off).
    pub(crate) fn with_cache(mut self, bytes: usize) -> Self {
        self.cache = (bytes > 0).then(|| crate::state::CacheBudget::new(bytes));
        self
    }
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl Topology {
    /// Plans the topology for application `app_id`: resolves internal topic names, gives
    /// repartition topics their partition counts (declared, or the largest count of the topics
    /// feeding the writing sub-topology; in a co-partition group the largest count of the
    /// group's other topics), checks co-partitioning, and lists the tasks.
    ///
    /// `partitions` gives the partition count of an external topic, `None` when it does not
    /// exist.
    ///
    /// # Errors
    ///
    /// [`TopologyError::UnknownTopic`] for a missing source topic,
    /// [`TopologyError::NotCoPartitioned`] when join inputs have different partition counts.
    pub fn plan(&self, app_id: &str, partitions: impl Fn(&str) -> Option<i32>) -> Result<Plan, TopologyError> {
        let mut counts: BTreeMap<TopicRef, i32> = BTreeMap::new();
        for topic in self.subtopologies.iter().chain(&self.global).flat_map(|s| &s.source_topics) {
            if let TopicRef::External(name) = topic {
                let n = partitions(name).ok_or_else(|| TopologyError::UnknownTopic {
                    topic: name.clone(),
                    reason: "the topology reads it but it does not exist (create it first)".into(),
                })?;
                counts.insert(topic.clone(), n);
            }
        }
        for (topic, declared) in &self.repartitions {
            if let Some(n) = declared {
                counts.insert(topic.clone(), *n);
            }
        }
        // Repartition topics take the largest count of the topics feeding their writer,
        // repeated until every count is known (writers may read other repartition topics).
        loop {
            let mut changed = false;
            for sub in &self.subtopologies {
                let known: Vec<i32> = sub.source_topics.iter().filter_map(|t| counts.get(t).copied()).collect();
                if known.len() != sub.source_topics.len() {
                    continue;
                }
                let n = known.into_iter().max().unwrap_or(1);
                for sink in &sub.sink_topics {
                    if self.repartitions.iter().any(|(t, _)| t == sink) && !counts.contains_key(sink) {
                        counts.insert(sink.clone(), n);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        for group in &self.copartition_groups {
            let fixed: Vec<i32> = group
                .topics
                .iter()
                .filter(|t| !self.repartitions.iter().any(|(r, declared)| r == *t && declared.is_none()))
                .filter_map(|t| counts.get(t).copied())
                .collect();
            if let Some(&max) = fixed.iter().max() {
                for t in &group.topics {
                    if self.repartitions.iter().any(|(r, declared)| r == t && declared.is_none()) {
                        counts.insert(t.clone(), max);
                    }
                }
            }
            let group_counts: Vec<i32> = group.topics.iter().map(|t| counts.get(t).copied().unwrap_or(0)).collect();
            if group_counts.windows(2).any(|w| w[0] != w[1]) {
                return Err(TopologyError::NotCoPartitioned {
                    operator: group.operator.clone(),
                    topics: group.topics.iter().map(|t| t.resolve(app_id)).collect(),
                    counts: group_counts,
                });
            }
        }
        let mut tasks = Vec::new();
        let mut internal_topics = Vec::new();
        for (topic, _) in &self.repartitions {
            let n = counts.get(topic).copied().unwrap_or(1);
            internal_topics.push(InternalTopic {
                name: topic.resolve(app_id),
                partitions: n,
                kind: InternalTopicKind::Repartition,
            });
        }
        for sub in &self.subtopologies {
            let n = sub.source_topics.iter().filter_map(|t| counts.get(t).copied()).max().unwrap_or(1);
            tasks.extend((0..n).map(|partition| TaskId { subtopology: sub.id, partition }));
            for store in self.stores.iter().filter(|s| s.logged && sub.stores.contains(&s.name)) {
                let kind = match store.retention_ms {
                    Some(r) => InternalTopicKind::WindowedChangelog { retention_ms: r.saturating_add(DAY_MS) },
                    None => InternalTopicKind::Changelog,
                };
                internal_topics.push(InternalTopic { name: store.changelog().resolve(app_id), partitions: n, kind });
                counts.insert(store.changelog(), n);
            }
        }
        let partitions = counts.into_iter().map(|(t, n)| (t.resolve(app_id), n)).collect();
        Ok(Plan { app_id: app_id.to_string(), partitions, internal_topics, tasks, cache: None })
    }
}
