//! `streamz-bench kafka`: the workloads against a Kafka broker, each application in a process of
//! its own. Per run and workload, two phases:
//!
//! 1. throughput: the input topic holds N records before the application starts; records/s is
//!    N over the time from the first to the last output record arriving at a timing consumer;
//!    CPU time (from `ready` to the last output) and peak RSS come from `/proc` of the process;
//! 2. latency: fresh topics, the application running, records produced at a fixed rate with
//!    their produce time as timestamp; p50/p99 of arrival time minus timestamp.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{ensure, Context};
use streamz::kafka::KafkaClient;

use crate::child::AppProcess;
use crate::input::{produce_bulk, produce_paced, Produced};
use crate::report::{self, quantile, Figures};
use crate::timing::Timer;
use crate::workloads::Workload;

/// What to run.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) records: u64,
    pub(crate) keys: u64,
    pub(crate) partitions: i32,
    pub(crate) workloads: Vec<Workload>,
    /// Input records/s of the latency phase.
    pub(crate) rate: u64,
    /// Length of the latency phase.
    pub(crate) latency_secs: u64,
    pub(crate) runs: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            records: 2_000_000,
            keys: 10_000,
            partitions: 4,
            workloads: vec![Workload::Raw, Workload::W1, Workload::W2],
            rate: 50_000,
            latency_secs: 10,
            runs: 3,
        }
    }
}

/// `$STREAMZ_BOOTSTRAP`, else the project's local broker (started if needed).
fn bootstrap() -> anyhow::Result<String> {
    if let Some(b) = std::env::var("STREAMZ_BOOTSTRAP").ok().filter(|b| !b.is_empty()) {
        return Ok(b);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kafka.sh");
    let out = Command::new("bash").arg(script).arg("start").output().context("cannot run scripts/kafka.sh")?;
    ensure!(out.status.success(), "scripts/kafka.sh start failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(stdout.lines().last().context("scripts/kafka.sh start printed no address")?.trim().to_string())
}

/// A topic or application id no earlier run used.
fn unique(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    format!("bench-{what}-{t}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

struct Env<'a> {
    options: &'a Options,
    bootstrap: String,
    client: KafkaClient,
}

impl Env<'_> {
    /// Phase 1: records/s, CPU-s per million records and peak RSS over the preloaded `input`.
    fn throughput(&self, w: Workload, input: &str, produced: Produced) -> anyhow::Result<(f64, f64, f64)> {
        let output = unique(&format!("{}-out", w.name()));
        self.client.create_topic(&output, self.options.partitions)?;
        let timer = Timer::start(&self.bootstrap, &output, self.options.partitions as usize, false)?;
        timer.expect(w.expected(produced.records, produced.passing));
        let app = AppProcess::start(w, &self.bootstrap, &unique(w.name()), input, &output)?;
        let before = app.usage()?;
        let arrivals = timer.finish()?;
        let after = app.usage()?;
        app.stop()?;
        let seconds = (arrivals.last - arrivals.first).as_secs_f64().max(1e-3);
        let n = produced.records as f64;
        Ok((n / seconds, (after.cpu_s - before.cpu_s) / n * 1e6, after.peak_rss_mib))
    }

    /// Phase 2: p50 and p99 latency at the fixed rate.
    fn latency(&self, w: Workload) -> anyhow::Result<(f64, f64)> {
        let (input, output) = (unique(&format!("{}-lat-in", w.name())), unique(&format!("{}-lat-out", w.name())));
        self.client.create_topic(&input, self.options.partitions)?;
        self.client.create_topic(&output, self.options.partitions)?;
        let timer = Timer::start(&self.bootstrap, &output, self.options.partitions as usize, true)?;
        let app = AppProcess::start(w, &self.bootstrap, &unique(w.name()), &input, &output)?;
        let duration = Duration::from_secs(self.options.latency_secs);
        let produced = produce_paced(&self.client, &input, self.options.rate, duration, self.options.keys)?;
        timer.expect(w.expected(produced.records, produced.passing));
        let mut latencies = timer.finish()?.latencies_ms;
        app.stop()?;
        latencies.sort_unstable();
        Ok((quantile(&latencies, 0.50), quantile(&latencies, 0.99)))
    }
}

pub(crate) fn run(options: &Options) -> anyhow::Result<()> {
    let bootstrap = bootstrap()?;
    let client = KafkaClient::connect(&bootstrap)?;
    let input = unique("in");
    client.create_topic(&input, options.partitions)?;
    let started = std::time::Instant::now();
    let produced = produce_bulk(&client, &input, options.records, options.keys)?;
    println!(
        "kafka: {} records ({} pass W1's filter), {} keys, {} partitions, on {bootstrap}; produced in {:.1} s",
        produced.records,
        produced.passing,
        options.keys,
        options.partitions,
        started.elapsed().as_secs_f64()
    );
    println!(
        "latency phase: {} records/s for {} s; {} runs\n\n{}",
        options.rate,
        options.latency_secs,
        options.runs,
        report::HEADER
    );
    let env = Env { options, bootstrap, client };
    let mut results: Vec<(Workload, Vec<Figures>)> = options.workloads.iter().map(|w| (*w, Vec::new())).collect();
    for run in 1..=options.runs.max(1) {
        for (w, figures) in &mut results {
            let (records_per_s, cpu_s_per_m, peak_rss_mib) = env.throughput(*w, &input, produced)?;
            let (p50_ms, p99_ms) = env.latency(*w)?;
            let f = Figures { records_per_s, cpu_s_per_m, peak_rss_mib, p50_ms, p99_ms, load: report::load_average() };
            println!("{}", report::row(*w, run, &f));
            figures.push(f);
        }
    }
    println!("\nmedian (min–max) over {} runs:\n\n{}", options.runs.max(1), report::summary(&results));
    Ok(())
}
