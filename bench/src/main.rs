//! The benchmark harness of streamz.
//!
//! - `driver`: a topology through the test driver, records/s (see `driver_bench.rs`);
//! - `kafka`: the workloads against a Kafka broker beside a raw rdkafka baseline: records/s,
//!   CPU-s per million records, peak RSS, and latency at a fixed rate (see `kafka_bench.rs`);
//! - `app`: one workload as a process of its own (spawned by `kafka`; see `workloads.rs`).

mod child;
mod driver_bench;
mod input;
mod kafka_bench;
mod raw;
mod report;
mod rng;

mod timing;
mod workloads;

use anyhow::{bail, Context};

const USAGE: &str = "usage:
  streamz-bench driver [--records N] [--keys K] [--batch B] [--seed S] [--runs R]
  streamz-bench kafka [--records N] [--keys K] [--partitions P] [--workload raw|w1|w2|all]
                      [--rate R] [--latency-secs S] [--runs R]
  streamz-bench app --workload raw|w1|w2 --bootstrap B --app-id A --input T --output T";

/// `--flag value` pairs.
fn flags(args: &[String]) -> anyhow::Result<Vec<(&str, &str)>> {
    args.chunks(2)
        .map(|pair| match pair {
            [flag, value] => Ok((flag.as_str(), value.as_str())),
            [flag] => bail!("{flag} needs a value\n{USAGE}"),
            _ => unreachable!("chunks of two"),
        })
        .collect()
}

fn number(flag: &str, value: &str) -> anyhow::Result<u64> {
    value.replace('_', "").parse().with_context(|| format!("{flag}: not a number"))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else { bail!("{USAGE}") };
    match command.as_str() {
        "driver" => {
            let mut options = driver_bench::Options::default();
            for (flag, value) in flags(rest)? {
                let value = number(flag, value)?;
                match flag {
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
        "kafka" => {
            let mut options = kafka_bench::Options::default();
            for (flag, value) in flags(rest)? {
                match flag {
                    "--workload" => options.workloads = workloads::Workload::parse(value)?,
                    "--records" => options.records = number(flag, value)?,
                    "--keys" => options.keys = number(flag, value)?,
                    "--partitions" => options.partitions = number(flag, value)?.clamp(1, 1_000) as i32,
                    "--rate" => options.rate = number(flag, value)?.max(1),
                    "--latency-secs" => options.latency_secs = number(flag, value)?,
                    "--runs" => options.runs = number(flag, value)?,
                    _ => bail!("unknown option {flag}\n{USAGE}"),
                }
            }
            kafka_bench::run(&options)
        }
        "app" => workloads::app_main(rest),
        _ => bail!("{USAGE}"),
    }
}
