//! The workloads and `streamz-bench app`: one workload as a process of its own, so that its CPU
//! time and peak RSS are its own.
//!
//! The protocol with the harness: the process prints `ready` on stdout once it consumes (the
//! streamz application is `Running`, the raw consumer has its partitions), then processes until
//! a line arrives on stdin (or stdin closes), then shuts down cleanly and exits.

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::{bail, Context};
use streamz::prelude::*;
use streamz::runtime::{App, AppState, StreamsConfig};
use streamz::topology::Topology;

use crate::input::{passes, Order};

/// What the application under test does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Workload {
    /// Plain rdkafka consume → produce, with streamz's client settings.
    Raw,
    /// Stateless: filter (keeps ~90 %) → map_values → to.
    W1,
    /// group_by_key → count → to_stream → to (one output per input: there is no cache).
    W2,
}

impl Workload {
    pub(crate) fn parse(name: &str) -> anyhow::Result<Vec<Workload>> {
        Ok(match name {
            "raw" | "RAW" => vec![Workload::Raw],
            "w1" | "W1" => vec![Workload::W1],
            "w2" | "W2" => vec![Workload::W2],
            "all" => vec![Workload::Raw, Workload::W1, Workload::W2],
            _ => bail!("unknown workload `{name}` (raw, w1, w2, all)"),
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Raw => "raw",
            Workload::W1 => "w1",
            Workload::W2 => "w2",
        }
    }

    /// The output records expected for `records` inputs of which `passing` pass W1's filter.
    pub(crate) fn expected(self, records: u64, passing: u64) -> u64 {
        match self {
            Workload::W1 => passing,
            Workload::Raw | Workload::W2 => records,
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

/// W2: the running count of orders per key.
pub(crate) fn w2(input: &str, output: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, Json<Order>>(input).group_by_key().count().to_stream().to(output);
    Ok(builder.build()?)
}

/// Blocks until the harness says stop (a line, or end of input).
fn wait_for_stop() {
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
}

fn say_ready() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    Ok(())
}

/// `streamz-bench app --workload W --input T --output T --app-id A --bootstrap B`.
pub(crate) fn app_main(args: &[String]) -> anyhow::Result<()> {
    let get = |flag: &str| -> anyhow::Result<String> {
        let i = args.iter().position(|a| a == flag).with_context(|| format!("app: {flag} is required"))?;
        args.get(i + 1).cloned().with_context(|| format!("app: {flag} needs a value"))
    };
    let workload = match Workload::parse(&get("--workload")?)?.as_slice() {
        [w] => *w,
        _ => bail!("app: one workload at a time"),
    };
    let (input, output, app_id, bootstrap) = (get("--input")?, get("--output")?, get("--app-id")?, get("--bootstrap")?);
    if workload == Workload::Raw {
        return crate::raw::run(&bootstrap, &app_id, &input, &output, say_ready, wait_for_stop);
    }
    let topology = match workload {
        Workload::W1 => w1(&input, &output)?,
        _ => w2(&input, &output)?,
    };
    let running = App::new(topology, StreamsConfig::new(app_id).bootstrap_servers(bootstrap))?.start()?;
    if !running.wait_for_state(AppState::Running, Duration::from_secs(60)) {
        bail!("app: not running after 60 s (state {}; errors {:?})", running.state(), running.errors());
    }
    say_ready()?;
    wait_for_stop();
    running.close()?;
    Ok(())
}
