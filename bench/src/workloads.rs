//! The workloads and `streamz-bench app`: one workload as a process of its own, so that its CPU
//! time and peak RSS are its own.
//!
//! The protocol with the harness (the Kafka Streams programs in `bench/kafka-streams/` follow it
//! too): the process prints `ready` on stdout once it consumes (the streamz application is
//! `Running`, the raw consumer has its partitions; W4: once it started), W4 then prints
//! `restored <records> <ms>` once the changelog is restored; it processes until a line arrives on
//! stdin (or stdin closes), then shuts down cleanly and exits.

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::{bail, Context};
use streamz::prelude::*;
use streamz::runtime::{App, AppState, ProcessingGuarantee, StreamsConfig};
use streamz::topology::Topology;

use crate::input::{passes, Order};

/// What the application under test does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Workload {
    /// Stateless: filter (keeps ~90 %) → map_values → to.
    W1,
    /// select_key (repartition) → group_by_key → tumbling 10 s windows (grace 5 s), count and
    /// sum → to (no cache: one output per input).
    W2,
    /// Fraud: see `fraud.rs`.
    W3,
    /// Restore a changelog into a fresh instance.
    W4,
}

/// Who runs the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum System {
    /// Kafka Streams 4.3.1 with the JVM's default heap.
    Ks,
    /// Kafka Streams with `-Xmx512m`.
    Ks512,
    Streamz,
    /// Plain rdkafka: consume → produce (twice for W2), or consume only (W4).
    Raw,
    /// RAW plus the writes of the workload's state, none of its decoding or processing. W2:
    /// RAW's two copies, the second also writing a changelog record a record, as W2's window
    /// store does (the same Kafka traffic as W2: three records produced an input record). W4:
    /// RAW's consumption, writing each record into a RocksDB database per partition.
    RawState,
}

/// Under which processing guarantee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Guarantee {
    Alos,
    Eos,
}

impl Workload {
    pub(crate) fn parse(name: &str) -> anyhow::Result<Vec<Workload>> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "w1" => vec![Workload::W1],
            "w2" => vec![Workload::W2],
            "w3" => vec![Workload::W3],
            "w4" => vec![Workload::W4],
            "all" => vec![Workload::W1, Workload::W2, Workload::W3, Workload::W4],
            _ => bail!("unknown workload `{name}` (w1, w2, w3, w4, all)"),
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::W1 => "w1",
            Workload::W2 => "w2",
            Workload::W3 => "w3",
            Workload::W4 => "w4",
        }
    }

    /// The output records expected for `records` inputs of which `passing` pass W1's filter
    /// (W2 drops records later than its grace, so it may see a few fewer).
    pub(crate) fn expected(self, records: u64, passing: u64) -> u64 {
        match self {
            Workload::W1 => passing,
            Workload::W2 | Workload::W4 => records,
            // Each trade updates its six hopping windows.
            Workload::W3 => 6 * records,
        }
    }
}

impl System {
    /// Every system, in the order of the results.
    pub(crate) const ALL: [System; 5] = [System::Ks, System::Ks512, System::Streamz, System::Raw, System::RawState];

    pub(crate) fn parse(name: &str) -> anyhow::Result<System> {
        Ok(match name {
            "ks" => System::Ks,
            "ks512" => System::Ks512,
            "streamz" => System::Streamz,
            "raw" => System::Raw,
            "rawstate" => System::RawState,
            _ => bail!("unknown system `{name}` (ks, ks512, streamz, raw, rawstate)"),
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            System::Ks => "ks",
            System::Ks512 => "ks512",
            System::Streamz => "streamz",
            System::Raw => "raw",
            System::RawState => "rawstate",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            System::Ks => "Kafka Streams",
            System::Ks512 => "Kafka Streams -Xmx512m",
            System::Streamz => "streamz",
            System::Raw => "RAW",
            System::RawState => "RAW + state",
        }
    }

    /// The system whose [`label`](Self::label) is `label`; also the label RAW + state had
    /// when it ran W2 only ("RAW + changelog").
    pub(crate) fn from_label(label: &str) -> Option<System> {
        if label == "RAW + changelog" {
            return Some(System::RawState);
        }
        System::ALL.into_iter().find(|s| s.label() == label)
    }

    /// Whether this system runs `workload` (RAW + state runs the workloads whose state RAW
    /// can write without their processing: W2 and W4).
    pub(crate) fn runs(self, workload: Workload) -> bool {
        self != System::RawState || matches!(workload, Workload::W2 | Workload::W4)
    }
}

impl Guarantee {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Guarantee::Alos => "alos",
            Guarantee::Eos => "eos",
        }
    }
}

/// W1: orders that pass the filter, amounts doubled.
pub(crate) fn w1(input: &str, output: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, Json<Order>>(input)
        .filter(|_, order| passes(order))
        .map_values(|order| Json(Order { amount: order.amount * 2, ..order.0 }))
        .to(output);
    Ok(builder.build()?)
}

/// W2's new key: region and the order id modulo 1000 (8,000 keys).
pub(crate) fn w2_key(order: &Order) -> String {
    format!("{}-{}", order.region, order.id % 1000)
}

/// W2: count and sum of the amounts per new key and 10-second window, as `"count,sum"` under
/// the key `"<key>@<window start>"`.
pub(crate) fn w2(input: &str, output: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::tumbling(Duration::from_secs(10)).grace(Duration::from_secs(5));
    builder
        .stream::<String, Json<Order>>(input)
        .select_key(|_, order| w2_key(order))
        .group_by_key()
        .windowed_by(windows)
        .aggregate_with(
            || (0i64, 0i64),
            |_, order, (count, sum)| (count + 1, sum + order.amount),
            Materialized::named("w2-counts"),
        )
        .to_stream()
        .map(|k: Windowed<String>, agg| {
            let (count, sum) = agg.unwrap_or_default();
            (format!("{}@{}", k.key, k.window.start.0), format!("{count},{sum}"))
        })
        .to(output);
    Ok(builder.build()?)
}

/// W4: a count whose store `w4-store` is restored from `<app id>-w4-store-changelog`.
pub(crate) fn w4(input: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, Json<Order>>(input).group_by_key().count_with(Materialized::named("w4-store"));
    Ok(builder.build()?)
}

/// Blocks until the harness says stop (a line, or end of input).
pub(crate) fn wait_for_stop() {
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
}

/// Prints a line of the protocol.
pub(crate) fn say(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

pub(crate) fn say_ready() -> anyhow::Result<()> {
    say("ready")
}

/// `streamz-bench app --workload W --system streamz|raw|rawstate --guarantee alos|eos --input T --output T
/// --app-id A --bootstrap B [--users T --alerts T] [--repartition T [--changelog T]] [--restore-records N]`.
pub(crate) fn app_main(args: &[String]) -> anyhow::Result<()> {
    let get = |flag: &str| -> anyhow::Result<String> {
        let i = args.iter().position(|a| a == flag).with_context(|| format!("app: {flag} is required"))?;
        args.get(i + 1).cloned().with_context(|| format!("app: {flag} needs a value"))
    };
    let workload = match Workload::parse(&get("--workload")?)?.as_slice() {
        [w] => *w,
        _ => bail!("app: one workload at a time"),
    };
    let system = System::parse(&get("--system")?)?;
    let (input, output, app_id, bootstrap) = (get("--input")?, get("--output")?, get("--app-id")?, get("--bootstrap")?);
    let commit = match get("--guarantee")?.as_str() {
        "eos" => crate::raw::Commit::Transactions,
        _ => crate::raw::Commit::Offsets,
    };
    match (system, workload) {
        (System::Raw | System::RawState, Workload::W4) => {
            let records = get("--restore-records")?.parse()?;
            let store = system == System::RawState;
            return crate::restore::raw_consume(&bootstrap, &input, records, store);
        }
        (System::Raw, Workload::W2) => {
            return crate::raw::run_twice(&bootstrap, &app_id, &input, &get("--repartition")?, &output, None, commit);
        }
        (System::RawState, Workload::W2) => {
            let (repartition, changelog) = (get("--repartition")?, get("--changelog")?);
            return crate::raw::run_twice(&bootstrap, &app_id, &input, &repartition, &output, Some(&changelog), commit);
        }
        (System::RawState, _) => bail!("app: rawstate runs W2 and W4"),
        (System::Raw, _) => {
            return crate::raw::run(&bootstrap, &app_id, &input, &output, commit, say_ready, wait_for_stop)
        }
        (System::Streamz, _) => {}
        _ => bail!("app: runs streamz or raw; Kafka Streams runs from bench/kafka-streams"),
    }
    let topology = match workload {
        Workload::W1 => w1(&input, &output)?,
        Workload::W2 => w2(&input, &output)?,
        Workload::W3 => crate::fraud::w3(&input, &get("--users")?, &output, &get("--alerts")?)?,
        Workload::W4 => w4(&input)?,
    };
    let guarantee = match get("--guarantee")?.as_str() {
        "eos" => ProcessingGuarantee::ExactlyOnce,
        _ => ProcessingGuarantee::AtLeastOnce,
    };
    let state_dir = std::env::temp_dir().join("streamz-bench").join(&app_id);
    let config = StreamsConfig::new(app_id)
        .bootstrap_servers(bootstrap)
        .processing_guarantee(guarantee)
        .state_dir(&state_dir)
        // As the Kafka Streams programs: no record cache, every update is an output record.
        .cache_max_bytes(0);
    let config = crate::raw::extra_consumer_settings().into_iter().fold(config, |c, (k, v)| c.consumer_config(k, v));
    let config = crate::raw::extra_producer_settings().into_iter().fold(config, |c, (k, v)| c.producer_config(k, v));
    if workload == Workload::W4 {
        // A fresh instance: an earlier run's stores and checkpoints would leave nothing to restore.
        let _ = std::fs::remove_dir_all(&state_dir);
        let records = get("--restore-records")?.parse()?;
        let restored = crate::restore::streamz_restore(topology, config, records);
        let _ = std::fs::remove_dir_all(&state_dir);
        return restored;
    }
    let running = App::new(topology, config)?.start()?;
    if !running.wait_for_state(AppState::Running, Duration::from_secs(60)) {
        bail!("app: not running after 60 s (state {}; errors {:?})", running.state(), running.errors());
    }
    say_ready()?;
    wait_for_stop();
    if std::env::var_os("STREAMZ_BENCH_VERBOSE").is_some() {
        eprintln!("app {}: metrics {:?}, errors {:?}", workload.name(), running.metrics(), running.errors());
    }
    let closed = running.close();
    let _ = std::fs::remove_dir_all(&state_dir);
    Ok(closed?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_with_state_runs_the_workloads_whose_state_it_writes() {
        let runs = |w| System::RawState.runs(w);
        assert!(runs(Workload::W2) && runs(Workload::W4));
        assert!(!runs(Workload::W1) && !runs(Workload::W3));
        assert!([Workload::W1, Workload::W3].iter().all(|&w| System::Raw.runs(w) && System::Streamz.runs(w)));
    }

    #[test]
    fn systems_parse_from_their_names() {
        for s in System::ALL {
            assert_eq!(System::parse(s.name()).unwrap(), s);
        }
        assert!(System::parse("rawlog").unwrap_err().to_string().contains("rawstate"));
    }
}
