//! Word count: lines in, a running count per word out, on Kafka.
//!
//! ```text
//! cargo run --example word_count
//! ```
//!
//! With no broker configured it starts an embedded (in-process) cluster, writes a few lines,
//! runs the application until every count is out, prints the counts and exits. Point it at a
//! real cluster with `STREAMZ_BOOTSTRAP=127.0.0.1:9092 cargo run --example word_count`
//! (`scripts/kafka.sh start` runs one locally).

use std::time::Duration;

use streamz::kafka::{EmbeddedCluster, KafkaClient};
use streamz::prelude::*;
use streamz::runtime::{App, StreamsConfig};
use streamz::topology::Topology;

/// The topology: split lines into words, re-key by word, count per word.
fn topology(lines: &str, counts: &str) -> Result<Topology, TopologyError> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<(), String>(lines)
        .flat_map_values(|line| line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>())
        .select_key(|_, word| word.clone())
        .group_by_key_with(Grouped::named("words"))
        .count_with(Materialized::named("word-counts"))
        .to_stream()
        .to(counts);
    builder.build()
}

const TEXT: [&str; 3] = ["the quick brown fox", "jumps over the lazy dog", "the dog sleeps"];

fn main() -> anyhow::Result<()> {
    let run = std::process::id();
    let embedded;
    let (config, client) = match std::env::var("STREAMZ_BOOTSTRAP").ok().filter(|b| !b.is_empty()) {
        Some(b) => (StreamsConfig::new(format!("word-count-{run}")).bootstrap_servers(&b), KafkaClient::connect(&b)?),
        None => {
            embedded = EmbeddedCluster::start()?;
            println!("no STREAMZ_BOOTSTRAP set: running on an embedded cluster");
            let config = StreamsConfig::new(format!("word-count-{run}")).embedded_cluster(&embedded);
            (config, KafkaClient::embedded(&embedded)?)
        }
    };
    let (lines, counts) = (format!("lines-{run}"), format!("word-counts-{run}"));
    client.create_topic(&lines, 2)?;
    client.create_topic(&counts, 2)?;
    client.produce(&lines, TEXT.iter().map(|l| ((), l.to_string(), Timestamp::now())))?;

    let topology = topology(&lines, &counts)?;
    println!("{}", topology.describe());
    // Without a record cache every count update reaches the topic (one per word read).
    let app = App::new(topology, config.commit_interval(Duration::from_millis(100)).cache_max_bytes(0))?.start()?;
    let words: usize = TEXT.iter().map(|l| l.split_whitespace().count()).sum();
    let out = client.read::<String, Option<i64>>(&counts, words, Duration::from_secs(60))?;
    app.close()?;
    for record in out {
        println!("{:>8} {}", record.key, record.value.unwrap_or(0));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_word() -> anyhow::Result<()> {
        let driver = TopologyTestDriver::new(topology("lines", "counts")?)?;
        driver.input::<(), String>("lines").pipe((), "a b a".into(), 0)?;
        let counts = driver.output::<String, Option<i64>>("counts").read_key_values();
        assert_eq!(counts, vec![("a".into(), Some(1)), ("b".into(), Some(1)), ("a".into(), Some(2))]);
        Ok(())
    }
}
