//! The benchmark harness of streamz.
//!
//! `cargo run -p streamz-bench --release -- driver [--records N] [--keys K] [--batch B]`
//! runs a topology through the test driver and reports records/s. Later subcommands will run
//! the same topologies against a Kafka broker, beside their Kafka Streams equivalents.
//!
//! `cargo run -p streamz-bench --release -- store [--records N] [--keys K] [--commit-every C]`
//! compares store write paths (RocksDB written through or in batches, and the key-value
//! stores of both backends).

mod driver_bench;
mod store_bench;

use anyhow::{bail, Context};

const USAGE: &str = "usage: streamz-bench driver [--records N] [--keys K] [--batch B] [--seed S] [--runs R]
       streamz-bench store [--records N] [--keys K] [--commit-every C]";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("driver") => {
            let mut options = driver_bench::Options::default();
            while let Some(flag) = args.next() {
                let value = args.next().with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
                let value: u64 = value.replace('_', "").parse().with_context(|| format!("{flag}: not a number"))?;
                match flag.as_str() {
                    "--records" => options.records = value,
                    "--keys" => options.keys = value,
                    "--batch" => options.batch = value,
                    "--seed" => options.seed = value,
                    "--runs" => options.runs = value,
                    _ => bail!("unknown option {flag}\n{USAGE}"),
                }
            }
            driver_bench::run(&options)
        }
        Some("store") => {
            let (mut records, mut keys, mut commit_every) = (1_000_000, 100_000, 10_000);
            while let Some(flag) = args.next() {
                let value = args.next().with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
                let value: u64 = value.replace('_', "").parse().with_context(|| format!("{flag}: not a number"))?;
                match flag.as_str() {
                    "--records" => records = value,
                    "--keys" => keys = value.max(1),
                    "--commit-every" => commit_every = value.max(1),
                    _ => bail!("unknown option {flag}\n{USAGE}"),
                }
            }
            store_bench::run(records, keys, commit_every)
        }
        _ => bail!("{USAGE}"),
    }
}
