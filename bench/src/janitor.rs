//! Deleting the topics a `kafka` run created, so that runs do not fill the broker's disk: a
//! full run writes tens of GB (5 M records through every workload and system, three times),
//! which the broker keeps for its retention of 7 days.

use std::time::Duration;

use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;
use streamz::kafka::KafkaClient;

/// Deletes topics of this process: every name made by [`unique`](crate::kafka_bench::unique)
/// in it holds `-<pid>-`.
pub(crate) struct Janitor {
    admin: AdminClient<DefaultClientContext>,
    marker: String,
}

impl Janitor {
    pub(crate) fn new(bootstrap: &str) -> anyhow::Result<Janitor> {
        let admin = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("log_level", "3")
            .create()
            .context("cannot create the admin client that deletes the run's topics")?;
        Ok(Janitor { admin, marker: marker() })
    }

    /// Deletes the topics of this process that `keep` does not keep. A failure is printed,
    /// not returned: what was measured stands.
    pub(crate) fn sweep(&self, client: &KafkaClient, keep: impl Fn(&str) -> bool) {
        match self.try_sweep(client, keep) {
            Ok(0) => {}
            Ok(n) => eprintln!("deleted {n} topics of this run"),
            Err(e) => eprintln!("{e:#}"),
        }
    }

    fn try_sweep(&self, client: &KafkaClient, keep: impl Fn(&str) -> bool) -> anyhow::Result<usize> {
        let topics = client.partition_counts().context("cannot list the topics to delete")?;
        let doomed: Vec<&str> =
            topics.keys().map(String::as_str).filter(|t| owns(&self.marker, t) && !keep(t)).collect();
        if doomed.is_empty() {
            return Ok(0);
        }
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(60)));
        let results = futures::executor::block_on(self.admin.delete_topics(&doomed, &options))
            .context("cannot delete the run's topics")?;
        let failed: Vec<String> =
            results.into_iter().filter_map(|r| r.err()).map(|(topic, code)| format!("{topic}: {code}")).collect();
        anyhow::ensure!(failed.is_empty(), "cannot delete topics: {}", failed.join(", "));
        Ok(doomed.len())
    }
}

/// What the names of this process's topics hold.
fn marker() -> String {
    format!("-{}-", std::process::id())
}

/// Whether `topic` was created by the process of `marker` (or by an application it started).
fn owns(marker: &str, topic: &str) -> bool {
    topic.starts_with("bench-") && topic.contains(marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_of_this_process_are_its_own() {
        let (m, pid) = (marker(), std::process::id());
        assert!(owns(&m, &crate::kafka_bench::unique("orders")));
        assert!(owns(&m, &format!("bench-w2-streamz-1795533111-{pid}-8-KSTREAM-AGGREGATE-repartition")));
        assert!(!owns(&m, &format!("bench-orders-1795533111-{}-3", pid + 1)));
        assert!(!owns(&m, &format!("orders-1795533111-{pid}-3")));
    }
}
