//! The benchmark harness of streamz.
//!
//! - `driver`: a topology through the test driver, records/s (see `driver_bench.rs`);
//! - `kafka`: the workloads W1–W4 against a Kafka broker, run by streamz, by Kafka Streams
//!   (`bench/kafka-streams/`) and by a raw rdkafka baseline: records/s, CPU-s per million
//!   records, peak RSS, latency at a fixed rate, restore records/s (see `kafka_bench.rs`);
//! - `app`: one workload as a process of its own (spawned by `kafka`; see `workloads.rs`).
//! - `store`: store write paths (RocksDB written through or in batches, and the key-value
//!   stores of both backends; see `store_bench.rs`).
//! - `chart`: draws the chart of a `results.md` again, into `chart.png` beside it unless told
//!   otherwise (see `results_file.rs`).

mod chart;
mod child;
mod driver_bench;
mod fraud;
mod input;
mod janitor;
mod kafka_bench;
mod ks;
mod raw;
mod raw_store;
mod report;
mod restore;
mod results_file;
mod rng;
mod store_bench;
mod timing;
mod workloads;

use anyhow::{bail, Context};

const USAGE: &str = "usage:
  streamz-bench driver [--records N] [--keys K] [--batch B] [--seed S] [--runs R] [--cache BYTES] [--commit-every BATCHES]
  streamz-bench kafka [--tiny] [--records N] [--w3-records N] [--restore-records N] [--keys K]
                      [--partitions P] [--workload w1|w2|w3|w4|all] [--system ks,ks512,streamz,raw,rawstate]
                      [--guarantee alos|eos|both] [--rate R] [--latency-secs S] [--runs R]
                      [--results DIR]
  streamz-bench app --workload W --system streamz|raw|rawstate --guarantee alos|eos --bootstrap B
                    --app-id A --input T --output T [--users T --alerts T] [--repartition T]
                    [--changelog T] [--restore-records N]
  streamz-bench store [--records N] [--keys K] [--commit-every C]
  streamz-bench chart RESULTS.md [CHART.png]";

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
                    "--cache" => options.cache = value,
                    "--commit-every" => options.commit_every = value.max(1),
                    _ => bail!("unknown option {flag}\n{USAGE}"),
                }
            }
            driver_bench::run(&options)
        }
        "kafka" => {
            let mut options = kafka_bench::Options::default();
            if rest.iter().any(|a| a == "--tiny") {
                options.tiny();
            }
            let rest: Vec<String> = rest.iter().filter(|a| *a != "--tiny").cloned().collect();
            for (flag, value) in flags(&rest)? {
                match flag {
                    "--workload" => options.workloads = workloads::Workload::parse(value)?,
                    "--system" => {
                        options.systems = value.split(',').map(workloads::System::parse).collect::<Result<_, _>>()?;
                        options.systems.sort();
                    }
                    "--guarantee" => {
                        use workloads::Guarantee::{Alos, Eos};
                        options.guarantees = match value {
                            "alos" => vec![Alos],
                            "eos" => vec![Eos],
                            "both" => vec![Alos, Eos],
                            _ => bail!("--guarantee: alos, eos or both"),
                        }
                    }
                    "--records" => options.records = number(flag, value)?,
                    "--w3-records" => options.w3_records = Some(number(flag, value)?),
                    "--restore-records" => options.restore_records = Some(number(flag, value)?),
                    "--results" => options.results = Some(value.into()),
                    "--keys" => options.keys = number(flag, value)?,
                    "--partitions" => options.partitions = number(flag, value)?.clamp(1, 1_000) as i32,
                    "--rate" => options.rate = Some(number(flag, value)?.max(1)),
                    "--latency-secs" => options.latency_secs = number(flag, value)?,
                    "--runs" => options.runs = number(flag, value)?,
                    _ => bail!("unknown option {flag}\n{USAGE}"),
                }
            }
            let command_line = std::iter::once("streamz-bench kafka".to_string()).chain(rest).collect::<Vec<_>>();
            kafka_bench::run(&options, &command_line.join(" "))
        }
        "app" => workloads::app_main(rest),
        "store" => {
            let (mut records, mut keys, mut commit_every) = (1_000_000, 100_000, 10_000);
            for (flag, value) in flags(rest)? {
                let value = number(flag, value)?;
                match flag {
                    "--records" => records = value,
                    "--keys" => keys = value.max(1),
                    "--commit-every" => commit_every = value.max(1),
                    _ => bail!("unknown option {flag}\n{USAGE}"),
                }
            }
            store_bench::run(records, keys, commit_every)
        }
        "chart" => match rest {
            [md] => results_file::redraw(md.as_ref(), &std::path::Path::new(md).with_file_name("chart.png")),
            [md, png] => results_file::redraw(md.as_ref(), png.as_ref()),
            _ => bail!("{USAGE}"),
        },
        _ => bail!("{USAGE}"),
    }
}
