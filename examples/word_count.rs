//! Word count: lines in, a running count per word out.
//!
//! Runs the topology on the in-process test driver and prints every count it emits:
//!
//! ```text
//! cargo run --example word_count
//! ```

use streamz::prelude::*;

/// The topology: split lines into words, re-key by word, count per word.
fn topology() -> Result<streamz::topology::Topology, TopologyError> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<(), String>("lines")
        .flat_map_values(|line| line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>())
        .select_key(|_, word| word.clone())
        .group_by_key_with(Grouped::named("words"))
        .count_with(Materialized::named("word-counts"))
        .to_stream()
        .to("word-counts");
    builder.build()
}

fn main() -> anyhow::Result<()> {
    let topology = topology()?;
    println!("{}", topology.describe());
    let driver = TopologyTestDriver::with_config(topology, DriverConfig::default().partitions("lines", 2))?;
    let lines = driver.input::<(), String>("lines");
    let text = ["the quick brown fox", "jumps over the lazy dog", "the dog sleeps"];
    for (i, line) in text.iter().enumerate() {
        lines.pipe((), line.to_string(), i as i64 * 1_000)?;
    }
    for (word, count) in driver.output::<String, Option<i64>>("word-counts").read_key_values() {
        println!("{word:>8} {}", count.unwrap_or(0));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_word() -> anyhow::Result<()> {
        let driver = TopologyTestDriver::new(topology()?)?;
        driver.input::<(), String>("lines").pipe((), "a b a".into(), 0)?;
        let counts = driver.output::<String, Option<i64>>("word-counts").read_key_values();
        assert_eq!(counts, vec![("a".into(), Some(1)), ("b".into(), Some(1)), ("a".into(), Some(2))]);
        Ok(())
    }
}
