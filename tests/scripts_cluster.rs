//! `scripts/cluster.sh`: three local brokers form one cluster, whose topics have three
//! replicas, and which goes on serving while one node is killed, and takes it back.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::unique;
use streamz::kafka::KafkaClient;
use streamz::prelude::*;

/// Runs `scripts/cluster.sh ARGS` on the cluster in `data`; its standard output.
fn cluster(data: &Path, args: &[&str]) -> anyhow::Result<String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/cluster.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .env("STREAMZ_CLUSTER_DATA", data)
        .env("STREAMZ_CLUSTER_PORT", "19192")
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "cluster.sh {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// Stops the cluster when the test ends, however it ends.
struct Stop<'a>(&'a Path);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        let _ = cluster(self.0, &["stop"]);
        let _ = std::fs::remove_dir_all(self.0);
    }
}

#[test]
fn three_nodes_form_one_cluster_that_serves_through_a_killed_node_and_takes_it_back() -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(unique("streamz-cluster"));
    let _stop = Stop(&data);
    let bootstrap = cluster(&data, &["start"])?;
    assert_eq!(bootstrap, "127.0.0.1:19192,127.0.0.1:19194,127.0.0.1:19196");
    let client = KafkaClient::connect(&bootstrap)?;
    let topic = unique("replicated");
    client.create_topic(&topic, 3)?;
    let records = |from: i64| (from..from + 300).map(|i| (format!("k{i}"), i, Timestamp::now()));
    client.produce(&topic, records(0))?;

    // A crash of node 1: every partition has replicas on the other two.
    cluster(&data, &["kill", "1"])?;
    client.produce(&topic, records(300))?;
    let read = client.read::<String, i64>(&topic, 600, Duration::from_secs(60))?;
    let mut values: Vec<i64> = read.iter().map(|r| r.value).collect();
    values.sort_unstable();
    assert_eq!(values, (0..600).collect::<Vec<_>>(), "every record, once, with node 1 down");

    // Node 1 comes back with its data and rejoins.
    cluster(&data, &["restart", "1"])?;
    let status = cluster(&data, &["status"])?;
    assert_eq!(status.lines().filter(|l| l.contains("answering on")).count(), 3, "{status}");
    Ok(())
}
