//! filter → map_values → group_by_key → count through the test driver.

use std::time::{Duration, Instant};

use anyhow::ensure;
use streamz::prelude::*;
use streamz::testing::DriverConfig;

use crate::rng::SplitMix;

/// What to run.
#[derive(Debug)]
pub(crate) struct Options {
    /// Input records.
    pub(crate) records: u64,
    /// Distinct keys.
    pub(crate) keys: u64,
    /// Records enqueued before each `process()` (a poll batch).
    pub(crate) batch: u64,
    /// Seed of the input generator.
    pub(crate) seed: u64,
    /// Times to run; the best and the median are reported.
    pub(crate) runs: u64,
    /// Bytes of the record cache (0: off).
    pub(crate) cache: u64,
    /// Batches between commits.
    pub(crate) commit_every: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            records: 2_000_000,
            keys: 10_000,
            batch: 1_000,
            seed: 42,
            runs: 3,
            cache: 10 << 20,
            commit_every: 100,
        }
    }
}

/// The input: `(key, value, timestamp)`, keys `key-<n>` for `n < keys`, timestamps rising.
fn generate(options: &Options) -> Vec<(String, i64, i64)> {
    let mut rng = SplitMix(options.seed);
    (0..options.records)
        .map(|i| {
            let key = format!("key-{}", rng.next() % options.keys.max(1));
            let value = (rng.next() % 1_000) as i64;
            (key, value, i as i64)
        })
        .collect()
}

pub(crate) fn run(options: &Options) -> anyhow::Result<()> {
    let input = generate(options);
    let passing = input.iter().filter(|(_, v, _)| v % 10 != 0).count() as i64;

    let mut runs: Vec<Duration> = Vec::new();
    for _ in 0..options.runs.max(1) {
        let config = DriverConfig::default().cache_max_bytes(options.cache as usize);
        let driver = TopologyTestDriver::with_config(topology()?, config)?;
        let start = Instant::now();
        process_all(&driver, &input, options.batch.max(1) as usize, options.commit_every.max(1) as usize)?;
        runs.push(start.elapsed());
        let counts = driver.key_value_store::<String, i64>("counts")?;
        ensure!(counts.iter().map(|(_, c)| c).sum::<i64>() == passing, "counts do not add up to the filtered input");
        ensure!(counts.len() as u64 <= options.keys, "more keys counted than generated");
    }
    runs.sort();
    let (best, median) = (runs[0], runs[runs.len() / 2]);

    let n = options.records as f64;
    println!("driver: filter -> map_values -> group_by_key -> count");
    println!(
        "  records {} | keys {} | batch {} | seed {} | runs {} | cache {} bytes | commit every {} batches",
        options.records,
        options.keys,
        options.batch,
        options.seed,
        runs.len(),
        options.cache,
        options.commit_every
    );
    for (what, d) in [("best", best), ("median", median)] {
        let (s, per) = (d.as_secs_f64(), d.as_nanos() as f64 / n);
        println!("  {what:6} {s:.3} s | {:.0} records/s | {per:.0} ns/record", n / s);
    }
    Ok(())
}

/// The topology measured.
fn topology() -> anyhow::Result<streamz::topology::Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .filter(|_, v| v % 10 != 0)
        .map_values(|v| v * 2)
        .group_by_key()
        .count_with(Materialized::named("counts"));
    Ok(builder.build()?)
}

/// Pipes `input` in batches of `batch` records, processing after each batch and committing
/// after every `commit_every` batches and at the end (the measured part; a separate function
/// so profilers can single it out).
#[inline(never)]
fn process_all(
    driver: &TopologyTestDriver,
    input: &[(String, i64, i64)],
    batch: usize,
    commit_every: usize,
) -> anyhow::Result<()> {
    let topic = driver.input::<String, i64>("in");
    for (i, chunk) in input.chunks(batch).enumerate() {
        for (key, value, ts) in chunk {
            topic.enqueue(key.clone(), *value, *ts)?;
        }
        driver.process()?;
        if (i + 1) % commit_every == 0 {
            driver.commit()?;
        }
    }
    driver.commit()?;
    Ok(())
}
