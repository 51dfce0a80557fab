//! The figures of a run, their summary as markdown tables, and the results file.

use std::fmt::Write as _;
use std::path::Path;

use crate::kafka_bench::Options;
use crate::workloads::{Guarantee, System, Workload};

/// One measured combination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Case {
    pub(crate) workload: Workload,
    pub(crate) guarantee: Guarantee,
    pub(crate) system: System,
}

/// What one run of one case measured.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Figures {
    /// Input records per second, first to last output arrival (W4: restored records per
    /// second).
    pub(crate) records_per_s: f64,
    /// CPU seconds of the application process per million input (W4: restored) records.
    pub(crate) cpu_s_per_m: f64,
    /// Peak RSS of the application process, MiB.
    pub(crate) peak_rss_mib: f64,
    /// CPU seconds of the broker's process over the same span as `cpu_s_per_m`, per million
    /// input records (NaN when the broker does not run on this machine): what the
    /// application's traffic costs the broker, which shares the machine.
    pub(crate) broker_cpu_s_per_m: f64,
    /// The input rate of the latency phase, records/s.
    pub(crate) rate: u64,
    /// Latency at `rate`, ms.
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// The machine's 1-minute load average at the end of the run.
    pub(crate) load: f64,
}

/// The 1-minute load average.
pub(crate) fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|l| l.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// The `q`-quantile (0..=1) of sorted `values`.
pub(crate) fn quantile(sorted: &[i64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted[i] as f64
}

pub(crate) const HEADER: &str = "| workload | guarantee | system | run | records/s | CPU-s / M records | broker CPU-s / M | peak RSS MiB | rate | p50 ms | p99 ms | load |\n\
     |---|---|---|---|---|---|---|---|---|---|---|---|";

/// `v` with `decimals` decimals, or `–` when it was not measured (NaN).
fn figure(v: f64, decimals: usize) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{v:.decimals$}")
    }
}

pub(crate) fn row(case: Case, run: u64, f: &Figures) -> String {
    format!(
        "| {} | {} | {} | {run} | {:.0} | {:.2} | {} | {:.0} | {} | {} | {} | {:.1} |",
        case.workload.name(),
        case.guarantee.name(),
        case.system.label(),
        f.records_per_s,
        f.cpu_s_per_m,
        figure(f.broker_cpu_s_per_m, 2),
        f.peak_rss_mib,
        if f.rate == 0 { "–".to_string() } else { f.rate.to_string() },
        figure(f.p50_ms, 0),
        figure(f.p99_ms, 0),
        f.load
    )
}

/// `median (min–max)` of `values`.
fn spread(mut values: Vec<f64>, decimals: usize) -> (f64, String) {
    values.retain(|v| !v.is_nan());
    if values.is_empty() {
        return (f64::NAN, "–".into());
    }
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    let (min, max) = (values[0], values[values.len() - 1]);
    if values.len() == 1 {
        return (median, format!("{median:.decimals$}"));
    }
    (median, format!("{median:.decimals$} ({min:.decimals$}–{max:.decimals$})"))
}

/// The medians of a case: records/s, CPU-s per M, peak RSS, p99.
pub(crate) fn medians(figures: &[Figures]) -> [f64; 4] {
    let m = |get: fn(&Figures) -> f64| spread(figures.iter().map(get).collect(), 2).0;
    [m(|f| f.records_per_s), m(|f| f.cpu_s_per_m), m(|f| f.peak_rss_mib), m(|f| f.p99_ms)]
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_nan() || b.is_nan() || b == 0.0 {
        "–".into()
    } else {
        format!("{:.2}", a / b)
    }
}

/// The summary: per case the median (min–max) over the runs; for streamz the ratios to Kafka
/// Streams (default heap; RSS also to `-Xmx512m`) and to RAW.
pub(crate) fn summary(results: &[(Case, Vec<Figures>)]) -> String {
    let mut out = String::from(
        "| workload | guarantee | system | records/s | CPU-s / M records | broker CPU-s / M | peak RSS MiB | p50 ms | p99 ms |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let mut sorted: Vec<&(Case, Vec<Figures>)> = results.iter().filter(|(_, f)| !f.is_empty()).collect();
    sorted.sort_by_key(|(c, _)| *c);
    for (case, figures) in &sorted {
        let col = |get: fn(&Figures) -> f64, d| spread(figures.iter().map(get).collect(), d).1;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            case.workload.name(),
            case.guarantee.name(),
            case.system.label(),
            col(|f| f.records_per_s, 0),
            col(|f| f.cpu_s_per_m, 2),
            col(|f| f.broker_cpu_s_per_m, 2),
            col(|f| f.peak_rss_mib, 0),
            col(|f| f.p50_ms, 0),
            col(|f| f.p99_ms, 0),
        );
    }
    let find = |c: Case| results.iter().find(|(x, _)| *x == c).map(|(_, f)| medians(f));
    out += "\nRatios of the medians (streamz / Kafka Streams with its default heap; streamz / RAW under \
            the same guarantee, and, for exactly-once, also / RAW at-least-once; W2 and W4: streamz / \
            RAW + state, which also writes the workload's state: W2's changelog records, W4's \
            RocksDB store):\n\n\
            | workload | guarantee | records/s vs KS | CPU vs KS | p99 vs KS | RSS vs KS | RSS vs KS -Xmx512m | records/s vs RAW | CPU vs RAW | records/s vs RAW ALOS | records/s vs RAW + state | CPU vs RAW + state | streamz EOS / ALOS records/s | KS EOS / ALOS records/s | RAW EOS / ALOS records/s |\n\
            |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (case, _) in sorted.iter().filter(|(c, _)| c.system == System::Streamz) {
        let with = |system, guarantee| find(Case { system, guarantee, ..*case });
        let nan = [f64::NAN; 4];
        let s = with(System::Streamz, case.guarantee).unwrap_or(nan);
        let ks = with(System::Ks, case.guarantee).unwrap_or(nan);
        let ks512 = with(System::Ks512, case.guarantee).unwrap_or(nan);
        let raw = with(System::Raw, case.guarantee).unwrap_or(nan);
        let raw_alos = with(System::Raw, Guarantee::Alos).unwrap_or(nan);
        let raw_state = with(System::RawState, case.guarantee).unwrap_or(nan);
        let eos_cost = |system| match (with(system, Guarantee::Eos), with(system, Guarantee::Alos)) {
            (Some(e), Some(a)) if case.guarantee == Guarantee::Eos => ratio(e[0], a[0]),
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            case.workload.name(),
            case.guarantee.name(),
            ratio(s[0], ks[0]),
            ratio(s[1], ks[1]),
            ratio(s[3], ks[3]),
            ratio(s[2], ks[2]),
            ratio(s[2], ks512[2]),
            ratio(s[0], raw[0]),
            ratio(s[1], raw[1]),
            ratio(s[0], raw_alos[0]),
            ratio(s[0], raw_state[0]),
            ratio(s[1], raw_state[1]),
            eos_cost(System::Streamz),
            eos_cost(System::Ks),
            eos_cost(System::Raw),
        );
    }
    out
}

fn shell(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(if o.stdout.is_empty() { &o.stderr } else { &o.stdout }).trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Whether the checkout has uncommitted changes to tracked files, besides results written into
/// `dir` (earlier runs of the same measurement); `None` when git cannot tell. `dir` may be
/// outside the checkout.
fn changes_besides(dir: &Path) -> Option<bool> {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").args(args).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let root = git(&["rev-parse", "--show-toplevel"])?;
    let inside = std::fs::canonicalize(dir).ok().and_then(|d| {
        let relative = d.strip_prefix(&root).ok()?.display().to_string();
        Some(format!(":(exclude){relative}"))
    });
    let mut args = vec!["status", "--porcelain", "--untracked-files=no", "--", root.as_str()];
    args.extend(inside.as_deref());
    Some(!git(&args)?.is_empty())
}

/// The machine: CPU model, cores, memory.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model =
        cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|m| m.trim_start_matches([' ', '\t', ':']));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:")).unwrap_or("?").trim();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{} × {}, {mem} memory", cores, model.unwrap_or("?"))
}

/// Writes `results.md` (and `chart.png`) into `dir`.
pub(crate) fn write(
    dir: &Path,
    command_line: &str,
    options: &Options,
    results: &[(Case, Vec<Figures>)],
    failures: &[String],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut md = String::from("# streamz beside Kafka Streams and RAW\n\n");
    let commit = shell("git", &["rev-parse", "--short=12", "HEAD"]);
    let dirty = match changes_besides(dir) {
        Some(false) => "",
        Some(true) => " (with uncommitted changes)",
        None => " (git cannot tell whether the checkout has uncommitted changes)",
    };
    let _ = writeln!(md, "- command: `{command_line}`");
    let _ = writeln!(md, "- commit: {commit}{dirty}");
    let _ = writeln!(md, "- machine: {}", machine());
    let _ = writeln!(
        md,
        "- {}; {}",
        shell("rustc", &["--version"]),
        shell("java", &["-version"]).lines().next().unwrap_or("?")
    );
    let loads: Vec<f64> = results.iter().flat_map(|(_, f)| f.iter().map(|f| f.load)).collect();
    let (lo, hi) = loads.iter().fold((f64::MAX, f64::MIN), |(lo, hi), l| (lo.min(*l), hi.max(*l)));
    let mean = loads.iter().sum::<f64>() / loads.len().max(1) as f64;
    let _ = writeln!(md, "- 1-minute load average at the end of each measurement: {lo:.1}–{hi:.1} (mean {mean:.1})");
    let _ = writeln!(
        md,
        "- options: {} W1/W2 records, W3 {} trades, W4 {} changelog records, {} keys, {} partitions, {} runs, latency phase {} s\n",
        options.records,
        options.w3_records.unwrap_or(options.records / 10),
        options.restore_records.unwrap_or(options.records),
        options.keys,
        options.partitions,
        options.runs,
        options.latency_secs
    );
    md += "## Median (min–max) over the runs\n\n";
    md += &summary(results);
    if !failures.is_empty() {
        md += "\nFailed measurements (left out above):\n\n";
        for line in failures {
            let _ = writeln!(md, "- {line}");
        }
    }
    md += "\n## Every measurement\n\n";
    md += HEADER;
    md.push('\n');
    let runs = results.iter().map(|(_, f)| f.len()).max().unwrap_or(0);
    for run in 0..runs {
        for (case, figures) in results {
            if let Some(f) = figures.get(run) {
                md += &row(*case, run as u64 + 1, f);
                md.push('\n');
            }
        }
    }
    std::fs::write(dir.join("results.md"), md)?;
    crate::chart::write(&dir.join("chart.png"), results)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_outside_the_checkout_leave_the_checkouts_own_state() {
        // The checkout's state now, whatever it is.
        let out = std::process::Command::new("git").args(["status", "--porcelain", "--untracked-files=no"]).output();
        let changed = !out.expect("git runs").stdout.is_empty();
        // Excluding a folder outside the checkout made `git status` fail, read as changes.
        assert_eq!(changes_besides(&std::env::temp_dir()), Some(changed));
    }

    #[test]
    fn quantiles_pick_the_rank() {
        let sorted: Vec<i64> = (1..=100).collect();
        assert_eq!(quantile(&sorted, 0.5), 51.0);
        assert_eq!(quantile(&sorted, 0.99), 100.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn spread_shows_median_min_and_max() {
        assert_eq!(spread(vec![3.0, 1.0, 2.0], 0), (2.0, "2 (1–3)".to_string()));
        assert_eq!(spread(vec![1.5], 1).1, "1.5");
        assert_eq!(spread(vec![f64::NAN], 1).1, "–");
    }

    #[test]
    fn summary_gives_streamz_over_kafka_streams() {
        let case = |system| Case { workload: Workload::W1, guarantee: Guarantee::Alos, system };
        let f = |records_per_s, cpu_s_per_m| Figures { records_per_s, cpu_s_per_m, ..Figures::default() };
        let results = vec![(case(System::Ks), vec![f(100.0, 4.0)]), (case(System::Streamz), vec![f(300.0, 1.0)])];
        let text = summary(&results);
        assert!(text.contains("| w1 | alos | 3.00 | 0.25 |"), "{text}");
    }

    #[test]
    fn exactly_once_is_compared_with_raw_under_each_guarantee() {
        let case = |system, guarantee| Case { workload: Workload::W1, guarantee, system };
        let f = |records_per_s| Figures { records_per_s, cpu_s_per_m: 1.0, ..Figures::default() };
        let results = vec![
            (case(System::Raw, Guarantee::Alos), vec![f(1000.0)]),
            (case(System::Raw, Guarantee::Eos), vec![f(800.0)]),
            (case(System::Streamz, Guarantee::Alos), vec![f(900.0)]),
            (case(System::Streamz, Guarantee::Eos), vec![f(720.0)]),
        ];
        let text = summary(&results);
        // records/s vs RAW (same guarantee), CPU vs RAW, vs RAW ALOS, (no RAW + state), then
        // the EOS / ALOS columns.
        assert!(text.contains("| w1 | alos | – | – | – | – | – | 0.90 | 1.00 | 0.90 | – | – | – | – | – |"), "{text}");
        assert!(
            text.contains("| w1 | eos | – | – | – | – | – | 0.90 | 1.00 | 0.72 | – | – | 0.80 | – | 0.80 |"),
            "{text}"
        );
    }

    #[test]
    fn w2_and_w4_are_also_compared_with_raw_writing_their_state() {
        for workload in [Workload::W2, Workload::W4] {
            let case = |system| Case { workload, guarantee: Guarantee::Alos, system };
            let f = |records_per_s, cpu_s_per_m| Figures { records_per_s, cpu_s_per_m, ..Figures::default() };
            let results = vec![
                (case(System::Raw), vec![f(1000.0, 2.0)]),
                (case(System::RawState), vec![f(800.0, 2.5)]),
                (case(System::Streamz), vec![f(700.0, 3.0)]),
            ];
            let text = summary(&results);
            let name = workload.name();
            // vs RAW: 0.70 and 1.50; vs RAW + state: 0.88 and 1.20.
            let ratios =
                format!("| {name} | alos | – | – | – | – | – | 0.70 | 1.50 | 0.70 | 0.88 | 1.20 | – | – | – |");
            assert!(text.contains(&ratios), "{text}");
            assert!(text.contains(&format!("| {name} | alos | RAW + state | 800 | 2.50 |")), "{text}");
        }
    }
}
