//! The figures of a run and their summary as markdown tables.

use crate::workloads::Workload;

/// What one run of one workload measured.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Figures {
    /// Input records per second, first to last output arrival.
    pub(crate) records_per_s: f64,
    /// CPU seconds of the application process per million input records.
    pub(crate) cpu_s_per_m: f64,
    /// Peak RSS of the application process, MiB.
    pub(crate) peak_rss_mib: f64,
    /// Latency at the fixed rate, ms.
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

pub(crate) const HEADER: &str =
    "| workload | run | records/s | CPU-s / M records | peak RSS MiB | p50 ms | p99 ms | load |\n\
                                 |---|---|---|---|---|---|---|---|";

pub(crate) fn row(workload: Workload, run: u64, f: &Figures) -> String {
    format!(
        "| {} | {run} | {:.0} | {:.2} | {:.0} | {:.0} | {:.0} | {:.1} |",
        workload.name(),
        f.records_per_s,
        f.cpu_s_per_m,
        f.peak_rss_mib,
        f.p50_ms,
        f.p99_ms,
        f.load
    )
}

/// `median (min–max)` of `values`.
fn spread(mut values: Vec<f64>, decimals: usize) -> (f64, String) {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    let (min, max) = (values[0], values[values.len() - 1]);
    if values.len() == 1 {
        return (median, format!("{median:.decimals$}"));
    }
    (median, format!("{median:.decimals$} ({min:.decimals$}–{max:.decimals$})"))
}

/// The summary: per workload the median (min–max) over the runs, and the ratios to RAW.
pub(crate) fn summary(results: &[(Workload, Vec<Figures>)]) -> String {
    let mut out = String::from(
        "| workload | records/s | CPU-s / M records | peak RSS MiB | p50 ms | p99 ms | throughput / RAW | CPU / RAW |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let medians = |w: Workload| {
        results.iter().find(|(x, _)| *x == w).map(|(_, f)| {
            (
                spread(f.iter().map(|f| f.records_per_s).collect(), 0).0,
                spread(f.iter().map(|f| f.cpu_s_per_m).collect(), 2).0,
            )
        })
    };
    let raw = medians(Workload::Raw);
    for (w, figures) in results.iter().filter(|(_, f)| !f.is_empty()) {
        let col = |get: fn(&Figures) -> f64, d| spread(figures.iter().map(get).collect(), d);
        let (rate, rate_s) = col(|f| f.records_per_s, 0);
        let (cpu, cpu_s) = col(|f| f.cpu_s_per_m, 2);
        let ratios = match raw {
            Some((raw_rate, raw_cpu)) => (format!("{:.2}", rate / raw_rate), format!("{:.2}", cpu / raw_cpu)),
            None => ("–".into(), "–".into()),
        };
        out += &format!(
            "| {} | {rate_s} | {cpu_s} | {} | {} | {} | {} | {} |\n",
            w.name(),
            col(|f| f.peak_rss_mib, 0).1,
            col(|f| f.p50_ms, 0).1,
            col(|f| f.p99_ms, 0).1,
            ratios.0,
            ratios.1
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
