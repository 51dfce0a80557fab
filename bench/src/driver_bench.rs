//! filter → map_values → group_by_key → count through the test driver.

use std::time::Instant;

use anyhow::ensure;
use streamz::prelude::*;

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
}

impl Default for Options {
    fn default() -> Self {
        Options { records: 2_000_000, keys: 10_000, batch: 1_000, seed: 42 }
    }
}

/// SplitMix64: a small, seeded, deterministic generator.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
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

    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .filter(|_, v| v % 10 != 0)
        .map_values(|v| v * 2)
        .group_by_key()
        .count_with(Materialized::named("counts"));
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let topic = driver.input::<String, i64>("in");

    let start = Instant::now();
    for chunk in input.chunks(options.batch.max(1) as usize) {
        for (key, value, ts) in chunk {
            topic.enqueue(key.clone(), *value, *ts)?;
        }
        driver.process()?;
    }
    let elapsed = start.elapsed();

    let counts = driver.key_value_store::<String, i64>("counts")?;
    ensure!(counts.iter().map(|(_, c)| c).sum::<i64>() == passing, "counts do not add up to the filtered input");
    let n = options.records as f64;
    println!("driver: filter -> map_values -> group_by_key -> count");
    println!("  records {} | keys {} | batch {} | seed {}", options.records, counts.len(), options.batch, options.seed);
    println!("  elapsed {:.3} s", elapsed.as_secs_f64());
    println!("  {:.0} records/s", n / elapsed.as_secs_f64());
    println!("  {:.0} ns/record", elapsed.as_nanos() as f64 / n);
    Ok(())
}
