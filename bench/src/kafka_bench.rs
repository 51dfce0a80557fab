//! `streamz-bench kafka`: the workloads against a Kafka broker, each application (streamz, Kafka
//! Streams, RAW) in a process of its own. Per run, workload, guarantee and system:
//!
//! 1. throughput: the input topic holds N records before the application starts; records/s is
//!    N over the time from the first to the last output record arriving (the output topic's
//!    end offsets, sampled every 5 ms; the records are read and counted afterwards); CPU time
//!    (from `ready` to the last output) and peak RSS come from `/proc` of the process;
//! 2. latency: fresh topics, the application running, records produced at a fixed rate (half of
//!    Kafka Streams' records/s of phase 1 in the same run, unless `--rate` says) with their
//!    produce time as timestamp; p50/p99 of arrival time minus timestamp.
//!
//! W4 (restore) has one phase: the changelog holds N records before the application starts;
//! records/s and CPU from the start of the restore to its end, as the application reports it.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{ensure, Context};
use streamz::kafka::KafkaClient;

use crate::child::{AppProcess, Launch};
use crate::input::{produce_bulk, produce_paced, produce_users, Produced};
use crate::report::{self, quantile, Case, Figures};
use crate::timing::{Timer, Watch};
use crate::workloads::{Guarantee, System, Workload};

/// What to run.
#[derive(Debug)]
pub(crate) struct Options {
    /// Input records of W1 and W2.
    pub(crate) records: u64,
    /// Input records of W3 (default: a tenth of `records`).
    pub(crate) w3_records: Option<u64>,
    /// Changelog records of W4 (default: `records`).
    pub(crate) restore_records: Option<u64>,
    pub(crate) keys: u64,
    pub(crate) partitions: i32,
    pub(crate) workloads: Vec<Workload>,
    pub(crate) systems: Vec<System>,
    pub(crate) guarantees: Vec<Guarantee>,
    /// Input records/s of the latency phase (default: half of Kafka Streams', else 50,000).
    pub(crate) rate: Option<u64>,
    /// Length of the latency phase.
    pub(crate) latency_secs: u64,
    pub(crate) runs: u64,
    /// Where to write `results.md` and `chart.png`.
    pub(crate) results: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            records: 5_000_000,
            w3_records: None,
            restore_records: None,
            keys: 10_000,
            partitions: 4,
            workloads: vec![Workload::W1, Workload::W2, Workload::W3, Workload::W4],
            systems: System::ALL.to_vec(),
            guarantees: vec![Guarantee::Alos, Guarantee::Eos],
            rate: None,
            latency_secs: 10,
            runs: 3,
            results: None,
        }
    }
}

impl Options {
    /// The CI smoke test: 20,000 records, streamz, RAW and RAW + state, one run.
    pub(crate) fn tiny(&mut self) {
        self.records = 20_000;
        self.w3_records = Some(20_000);
        self.systems = vec![System::Streamz, System::Raw, System::RawState];
        self.rate = Some(2_000);
        self.latency_secs = 3;
        self.runs = 1;
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
pub(crate) fn unique(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    format!("bench-{what}-{t}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// The topics produced once, before the runs.
struct Inputs {
    orders: String,
    orders_produced: Produced,
    users: String,
    trades: String,
    trades_produced: Produced,
    /// W4: the (empty) input topic, and per system the application id whose changelog is full.
    w4_input: String,
    w4_streamz_app: String,
    w4_ks_app: String,
    restore_records: u64,
}

struct Env<'a> {
    options: &'a Options,
    bootstrap: String,
    client: KafkaClient,
    ks_classpath: String,
    inputs: Inputs,
    /// The broker's process, when it runs on this machine.
    broker_pid: Option<u32>,
}

impl Env<'_> {
    /// The broker's CPU seconds so far (NaN when it does not run on this machine).
    fn broker_cpu(&self) -> f64 {
        self.broker_pid.and_then(|pid| crate::child::cpu_seconds(pid).ok()).unwrap_or(f64::NAN)
    }

    fn launch(&self, case: Case, input: &str, output: &str) -> anyhow::Result<Launch> {
        let p = self.options.partitions;
        let mut extra = Vec::new();
        match (case.workload, case.system) {
            (Workload::W3, System::Raw) | (Workload::W1, _) | (Workload::W4, _) => {}
            (Workload::W3, _) => {
                let alerts = unique("w3-alerts");
                self.client.create_topic(&alerts, p)?;
                extra.push(("--users", self.inputs.users.clone()));
                extra.push(("--alerts", alerts));
            }
            (Workload::W2, System::Raw | System::RawState) => {
                let repartition = unique("w2-raw-repartition");
                self.client.create_topic(&repartition, p)?;
                extra.push(("--repartition", repartition));
                if case.system == System::RawState {
                    // No compaction happens within a run: a plain topic costs what a
                    // changelog costs.
                    let changelog = unique("w2-raw-changelog");
                    self.client.create_topic(&changelog, p)?;
                    extra.push(("--changelog", changelog));
                }
            }
            (Workload::W2, _) => {}
        }
        Ok(Launch {
            workload: case.workload,
            system: case.system,
            guarantee: case.guarantee,
            bootstrap: self.bootstrap.clone(),
            app_id: unique(&format!("{}-{}", case.workload.name(), case.system.name())),
            input: input.to_string(),
            output: output.to_string(),
            extra,
        })
    }

    /// Output records expected for `produced`, and how many of them may be missing.
    fn expected(case: Case, produced: Produced) -> (u64, u64) {
        match (case.system, case.workload) {
            (System::Raw | System::RawState, _) => (produced.records, 0),
            // Records more than the grace late across the repartition are dropped.
            (_, Workload::W2) => (produced.records, produced.records / 100),
            (_, w) => (w.expected(produced.records, produced.passing), 0),
        }
    }

    /// Phase 1: records/s, CPU-s per million records and peak RSS over the preloaded input.
    fn throughput(&self, case: Case) -> anyhow::Result<Figures> {
        let (input, produced) = match case.workload {
            Workload::W3 => (&self.inputs.trades, self.inputs.trades_produced),
            _ => (&self.inputs.orders, self.inputs.orders_produced),
        };
        let output = unique(&format!("{}-out", case.workload.name()));
        self.client.create_topic(&output, self.options.partitions)?;
        let watch = Watch::EndOffsets { transactional: case.guarantee == Guarantee::Eos };
        let timer = Timer::start(&self.bootstrap, &output, self.options.partitions as usize, watch)?;
        let (expected, missing) = Self::expected(case, produced);
        timer.expect(expected, missing);
        let app = AppProcess::start(&self.launch(case, input, &output)?, &self.ks_classpath)?;
        let (before, broker_before) = (app.usage()?, self.broker_cpu());
        let arrivals = timer.finish()?;
        let (after, broker_after) = (app.usage()?, self.broker_cpu());
        app.stop()?;
        let seconds = (arrivals.last - arrivals.first).as_secs_f64().max(1e-3);
        let n = produced.records as f64;
        Ok(Figures {
            records_per_s: n / seconds,
            cpu_s_per_m: (after.cpu_s - before.cpu_s) / n * 1e6,
            broker_cpu_s_per_m: (broker_after - broker_before) / n * 1e6,
            peak_rss_mib: after.peak_rss_mib,
            ..Figures::default()
        })
    }

    /// Phase 2: p50 and p99 latency at `rate`.
    fn latency(&self, case: Case, rate: u64) -> anyhow::Result<(f64, f64)> {
        let w = case.workload.name();
        let (input, output) = (unique(&format!("{w}-lat-in")), unique(&format!("{w}-lat-out")));
        self.client.create_topic(&input, self.options.partitions)?;
        self.client.create_topic(&output, self.options.partitions)?;
        let timer = Timer::start(&self.bootstrap, &output, self.options.partitions as usize, Watch::Records)?;
        let app = AppProcess::start(&self.launch(case, &input, &output)?, &self.ks_classpath)?;
        let duration = Duration::from_secs(self.options.latency_secs);
        let produced = produce_paced(&self.client, &input, rate, duration, self.options.keys)?;
        let (expected, missing) = Self::expected(case, produced);
        timer.expect(expected, missing);
        let mut latencies = timer.finish()?.latencies_ms;
        app.stop()?;
        latencies.sort_unstable();
        Ok((quantile(&latencies, 0.50), quantile(&latencies, 0.99)))
    }

    /// W4: restore records/s, CPU-s per million restored records, peak RSS.
    fn restore(&self, system: System) -> anyhow::Result<Figures> {
        let case = Case { workload: Workload::W4, guarantee: Guarantee::Alos, system };
        let mut launch = self.launch(case, &self.inputs.w4_input, "none")?;
        let n = self.inputs.restore_records;
        match system {
            System::Streamz => launch.app_id = self.inputs.w4_streamz_app.clone(),
            System::Ks | System::Ks512 => launch.app_id = self.inputs.w4_ks_app.clone(),
            // RAW reads streamz's changelog.
            System::Raw | System::RawState => {
                launch.input = format!("{}-w4-store-changelog", self.inputs.w4_streamz_app)
            }
        }
        launch.extra.push(("--restore-records", n.to_string()));
        let mut app = AppProcess::start(&launch, &self.ks_classpath)?;
        let (before, broker_before) = (app.usage()?, self.broker_cpu());
        let line = app.expect_line("restored", Duration::from_secs(600))?;
        let (after, broker_after) = (app.usage()?, self.broker_cpu());
        app.stop()?;
        let ms: f64 = line.split_whitespace().nth(2).and_then(|ms| ms.parse().ok()).context("odd `restored` line")?;
        Ok(Figures {
            records_per_s: n as f64 / (ms / 1e3).max(1e-3),
            cpu_s_per_m: (after.cpu_s - before.cpu_s) / n as f64 * 1e6,
            broker_cpu_s_per_m: (broker_after - broker_before) / n as f64 * 1e6,
            peak_rss_mib: after.peak_rss_mib,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            ..Figures::default()
        })
    }
}

fn produce_inputs(options: &Options, client: &KafkaClient) -> anyhow::Result<Inputs> {
    let p = options.partitions;
    let started = std::time::Instant::now();
    let has = |w| options.workloads.contains(&w);
    let (orders, users, trades, w4_input) = (unique("orders"), unique("users"), unique("trades"), unique("w4-in"));
    let mut inputs = Inputs {
        w4_streamz_app: unique("w4-streamz"),
        w4_ks_app: unique("w4-ks"),
        restore_records: options.restore_records.unwrap_or(options.records),
        orders: orders.clone(),
        orders_produced: Produced::default(),
        users: users.clone(),
        trades: trades.clone(),
        trades_produced: Produced::default(),
        w4_input: w4_input.clone(),
    };
    if has(Workload::W1) || has(Workload::W2) {
        client.create_topic(&orders, p)?;
        inputs.orders_produced = produce_bulk(client, &orders, options.records, options.keys)?;
    }
    if has(Workload::W3) {
        client.create_topic(&users, p)?;
        produce_users(client, &users, options.keys)?;
        client.create_topic(&trades, p)?;
        let n = options.w3_records.unwrap_or(options.records / 10);
        inputs.trades_produced = produce_bulk(client, &trades, n, options.keys)?;
    }
    if has(Workload::W4) {
        client.create_topic(&w4_input, p)?;
        let n = inputs.restore_records;
        let changelog = |app: &str| format!("{app}-w4-store-changelog");
        crate::restore::produce_changelog(client, &changelog(&inputs.w4_streamz_app), p, n, true)?;
        if options.systems.iter().any(|s| matches!(s, System::Ks | System::Ks512)) {
            crate::restore::produce_changelog(client, &changelog(&inputs.w4_ks_app), p, n, false)?;
        }
    }
    println!(
        "inputs: W1/W2 {} records ({} pass W1's filter), W3 {} trades, W4 {} changelog records; {} keys, {} partitions; produced in {:.1} s",
        inputs.orders_produced.records,
        inputs.orders_produced.passing,
        inputs.trades_produced.records,
        if has(Workload::W4) { inputs.restore_records } else { 0 },
        options.keys,
        p,
        started.elapsed().as_secs_f64()
    );
    Ok(inputs)
}

pub(crate) fn run(options: &Options, command_line: &str) -> anyhow::Result<()> {
    let bootstrap = bootstrap()?;
    let client = KafkaClient::connect(&bootstrap)?;
    let uses_ks = options.systems.iter().any(|s| matches!(s, System::Ks | System::Ks512));
    let ks_classpath = if uses_ks { crate::ks::classpath()? } else { String::new() };
    let inputs = produce_inputs(options, &client)?;
    println!(
        "broker {bootstrap}; latency phase {} s; {} runs\n\n{}",
        options.latency_secs,
        options.runs,
        report::HEADER
    );
    let broker_pid = crate::child::broker_pid();
    let janitor = crate::janitor::Janitor::new(&bootstrap)?;
    let env = Env { options, bootstrap, client, ks_classpath, inputs, broker_pid };
    let mut results: Vec<(Case, Vec<Figures>)> = Vec::new();
    let record = |results: &mut Vec<(Case, Vec<Figures>)>, case: Case, run: u64, f: Figures| {
        println!("{}", report::row(case, run, &f));
        match results.iter_mut().find(|(c, _)| *c == case) {
            Some((_, figures)) => figures.push(f),
            None => results.push((case, vec![f])),
        }
    };
    // A failed measurement is reported and left out; the others go on.
    let mut failures = Vec::new();
    let failed = |case: Case, run: u64, e: &anyhow::Error| {
        let line = format!(
            "{} {} {} run {run} failed: {e:#}",
            case.workload.name(),
            case.guarantee.name(),
            case.system.label()
        );
        eprintln!("{line}");
        line
    };
    for run in 1..=options.runs.max(1) {
        for &workload in &options.workloads {
            if workload == Workload::W4 {
                for &system in options.systems.iter().filter(|s| s.runs(workload)) {
                    let case = Case { workload, guarantee: Guarantee::Alos, system };
                    match env.restore(system) {
                        Ok(f) => record(&mut results, case, run, Figures { load: report::load_average(), ..f }),
                        Err(e) => failures.push(failed(case, run, &e)),
                    }
                }
                continue;
            }
            for &guarantee in &options.guarantees {
                let mut rate = options.rate;
                for &system in options.systems.iter().filter(|s| s.runs(workload)) {
                    let case = Case { workload, guarantee, system };
                    let measured = env.throughput(case).and_then(|mut f| {
                        if system == System::Ks && rate.is_none() {
                            rate = Some((f.records_per_s / 2.0).max(1.0) as u64);
                        }
                        f.rate = rate.unwrap_or(50_000);
                        (f.p50_ms, f.p99_ms) = env.latency(case, f.rate)?;
                        f.load = report::load_average();
                        Ok(f)
                    });
                    match measured {
                        Ok(f) => record(&mut results, case, run, f),
                        Err(e) => failures.push(failed(case, run, &e)),
                    }
                }
            }
        }
        // What is measured so far, in case a later run does not finish.
        if let Some(dir) = &options.results {
            report::write(dir, command_line, options, &results, &failures)?;
        }
        // The inputs, and W4's full changelogs, serve the next runs.
        let inputs = &env.inputs;
        let kept = [
            &inputs.orders,
            &inputs.users,
            &inputs.trades,
            &inputs.w4_input,
            &inputs.w4_streamz_app,
            &inputs.w4_ks_app,
        ];
        janitor.sweep(&env.client, |t| kept.iter().any(|k| t == k.as_str() || t.starts_with(&format!("{k}-"))));
    }
    janitor.sweep(&env.client, |_| false);
    let summary = report::summary(&results);
    for line in &failures {
        println!("FAILED: {line}");
    }
    println!("\nmedian (min–max) over {} runs:\n\n{summary}", options.runs.max(1));
    if let Some(dir) = &options.results {
        report::write(dir, command_line, options, &results, &failures)?;
        println!("wrote {}", dir.display());
    }
    ensure!(failures.is_empty(), "{} measurements failed", failures.len());
    Ok(())
}
