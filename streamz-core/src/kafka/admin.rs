//! Topic metadata and creation of internal topics.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::executor::block_on;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::Consumer;
use rdkafka::ClientConfig;

use super::kafka_error;
use super::logging::{Logged, LoggedConsumer};
use crate::topology::{InternalTopic, InternalTopicKind};
use crate::{Result, StreamsError};

/// Reads metadata and creates topics.
pub(crate) struct KafkaAdmin {
    admin: AdminClient<Logged>,
    metadata: LoggedConsumer,
    bootstrap: String,
    timeout: Duration,
}

impl KafkaAdmin {
    /// An admin of the cluster at `bootstrap`.
    pub(crate) fn new(bootstrap: &str, timeout: Duration) -> Result<Self> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", bootstrap).set("log_level", "3");
        let admin = config.create_with_context(Logged).map_err(|e| kafka_error("cannot create the admin client", e))?;
        let metadata = LoggedConsumer::create(&config, "metadata client")?;
        Ok(KafkaAdmin { admin, metadata, bootstrap: bootstrap.to_string(), timeout })
    }

    /// The partition count of every topic of the cluster.
    ///
    /// # Errors
    ///
    /// A retriable [`StreamsError::Kafka`] when no broker answers within the timeout.
    pub(crate) fn partition_counts(&self) -> Result<BTreeMap<String, i32>> {
        let metadata = self.metadata.fetch_metadata(None, self.timeout).map_err(|e| {
            kafka_error(&format!("cannot reach the Kafka cluster at `{}` within {:?}", self.bootstrap, self.timeout), e)
        })?;
        Ok(metadata.topics().iter().map(|t| (t.name().to_string(), t.partitions().len() as i32)).collect())
    }

    /// Creates the internal topics that do not exist yet; checks the partition counts of
    /// those that do.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when creation fails, or an existing topic has another
    /// partition count than the topology needs.
    pub(crate) fn ensure_internal_topics(
        &self,
        topics: &[InternalTopic],
        replication: i32,
        embedded: Option<&super::EmbeddedHandle>,
    ) -> Result<()> {
        let existing = self.partition_counts()?;
        let mut missing = Vec::new();
        for topic in topics {
            match existing.get(&topic.name) {
                Some(&n) if n == topic.partitions => {}
                Some(&n) => {
                    return Err(StreamsError::Kafka {
                        message: format!(
                            "internal topic `{}` has {n} partitions but the topology needs {} (delete it, or reset the application)",
                            topic.name, topic.partitions
                        ),
                        retriable: false,
                    })
                }
                None => missing.push(topic),
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if let Some(cluster) = embedded {
            return missing.iter().try_for_each(|t| cluster.create_topic(&t.name, t.partitions));
        }
        let configs: Vec<Vec<(&str, String)>> = missing.iter().map(|t| topic_configs(t.kind)).collect();
        let new_topics: Vec<NewTopic<'_>> = missing
            .iter()
            .zip(&configs)
            .map(|(t, config)| {
                config
                    .iter()
                    .fold(NewTopic::new(&t.name, t.partitions, TopicReplication::Fixed(replication)), |nt, (k, v)| {
                        nt.set(k, v)
                    })
            })
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(self.timeout));
        let results = block_on(self.admin.create_topics(&new_topics, &options))
            .map_err(|e| kafka_error("cannot create internal topics", e))?;
        for result in results {
            if let Err((topic, code)) = result {
                if code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                    return Err(StreamsError::Kafka {
                        message: format!("cannot create internal topic `{topic}`: {code}"),
                        retriable: false,
                    });
                }
            }
        }
        // A consumer subscribing to a topic its broker does not list yet leaves it out of the
        // assignment until its next metadata refresh: wait until the new topics are listed.
        let deadline = std::time::Instant::now() + self.timeout;
        loop {
            let listed = self.partition_counts()?;
            if missing.iter().all(|t| listed.get(&t.name) == Some(&t.partitions)) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                let names: Vec<&str> = missing.iter().map(|t| t.name.as_str()).collect();
                return Err(StreamsError::Kafka {
                    message: format!("internal topics {names:?} were created but are not listed by the cluster"),
                    retriable: true,
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Creates `topic` with `partitions` partitions and the broker's default replication
    /// factor if it does not exist (for tests, tools and examples).
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when creation fails.
    pub(crate) fn create_topic(&self, topic: &str, partitions: i32, config: &[(&str, &str)]) -> Result<()> {
        let nt = config
            .iter()
            .fold(NewTopic::new(topic, partitions, TopicReplication::Fixed(-1)), |nt, (k, v)| nt.set(k, v));
        let options = AdminOptions::new().operation_timeout(Some(self.timeout));
        let results =
            block_on(self.admin.create_topics([&nt], &options)).map_err(|e| kafka_error("cannot create topic", e))?;
        for result in results {
            if let Err((topic, code)) = result {
                if code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                    return Err(StreamsError::Kafka {
                        message: format!("cannot create topic `{topic}`: {code}"),
                        retriable: false,
                    });
                }
            }
        }
        Ok(())
    }
}

impl KafkaAdmin {
    /// Deletes the records before `offsets` (topic, partition, first offset to keep): the
    /// consumed part of repartition topics, which the application no longer needs.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when the request fails.
    pub(crate) fn delete_records_before(&self, offsets: &[(std::sync::Arc<str>, i32, i64)]) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let mut list = rdkafka::TopicPartitionList::with_capacity(offsets.len());
        for (topic, partition, offset) in offsets {
            list.add_partition_offset(topic, *partition, rdkafka::Offset::Offset(*offset))
                .map_err(|e| kafka_error("cannot list offsets", e))?;
        }
        let options = AdminOptions::new().operation_timeout(Some(self.timeout));
        let result = block_on(self.admin.delete_records(&list, &options))
            .map_err(|e| kafka_error("cannot delete records", e))?;
        match result.elements().iter().find_map(|e| e.error().err().map(|err| (e.topic().to_string(), err))) {
            Some((topic, err)) => Err(kafka_error(&format!("cannot delete consumed records of `{topic}`"), err)),
            None => Ok(()),
        }
    }
}

fn topic_configs(kind: InternalTopicKind) -> Vec<(&'static str, String)> {
    match kind {
        InternalTopicKind::Repartition => {
            vec![
                ("cleanup.policy", "delete".into()),
                ("retention.ms", "-1".into()),
                ("segment.bytes", "52428800".into()),
            ]
        }
        InternalTopicKind::Changelog => vec![("cleanup.policy", "compact".into())],
        InternalTopicKind::WindowedChangelog { retention_ms } => {
            vec![("cleanup.policy", "compact,delete".into()), ("retention.ms", retention_ms.to_string())]
        }
    }
}
