//! Reading the measurements back from a `results.md`, to draw its chart again
//! (`streamz-bench chart`) with the chart code of today.

use std::path::Path;

use anyhow::{bail, Context};

use crate::report::{Case, Figures};
use crate::workloads::{Guarantee, System, Workload};

/// The rows of the "Every measurement" table of `md`, grouped by case in the order they first
/// appear, each case's runs in order.
pub(crate) fn measurements(md: &str) -> anyhow::Result<Vec<(Case, Vec<Figures>)>> {
    let table = md.split("## Every measurement").nth(1).context("no \"Every measurement\" section")?;
    let mut results: Vec<(Case, Vec<Figures>)> = Vec::new();
    // A measurement's first cell is a workload: `w` and a digit (the header's is `workload`).
    let measured = |l: &&str| l.starts_with("| w") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit);
    for (n, line) in table.lines().filter(measured).enumerate() {
        let (case, figures) = parse_row(line).with_context(|| format!("row {} of the measurements: {line}", n + 1))?;
        match results.iter_mut().find(|(c, _)| *c == case) {
            Some((_, runs)) => runs.push(figures),
            None => results.push((case, vec![figures])),
        }
    }
    if results.is_empty() {
        bail!("the \"Every measurement\" table has no rows");
    }
    Ok(results)
}

/// Draws the chart of the results file `md_path` into `png_path`.
pub(crate) fn redraw(md_path: &Path, png_path: &Path) -> anyhow::Result<()> {
    let md = std::fs::read_to_string(md_path).with_context(|| format!("cannot read {}", md_path.display()))?;
    let results = measurements(&md).with_context(|| format!("in {}", md_path.display()))?;
    crate::chart::write(png_path, &results).with_context(|| format!("cannot write {}", png_path.display()))
}

/// A row as `report::row` writes it: workload, guarantee, system label, run, records/s, CPU-s
/// per million, broker CPU-s per million, peak RSS, rate, p50, p99, load (`–`: not measured).
fn parse_row(line: &str) -> anyhow::Result<(Case, Figures)> {
    let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
    let [workload, guarantee, system, _run, records, cpu, broker, rss, rate, p50, p99, load] = cells[..] else {
        bail!("{} cells, not 12", cells.len());
    };
    let workload = match Workload::parse(workload)?.as_slice() {
        [w] => *w,
        _ => bail!("not one workload: {workload}"),
    };
    let guarantee = match guarantee {
        "alos" => Guarantee::Alos,
        "eos" => Guarantee::Eos,
        _ => bail!("unknown guarantee {guarantee}"),
    };
    let system = System::from_label(system).with_context(|| format!("unknown system {system}"))?;
    let number = |cell: &str| -> anyhow::Result<f64> {
        if cell == "–" {
            return Ok(f64::NAN);
        }
        cell.parse().with_context(|| format!("not a number: {cell}"))
    };
    let figures = Figures {
        records_per_s: number(records)?,
        cpu_s_per_m: number(cpu)?,
        broker_cpu_s_per_m: number(broker)?,
        peak_rss_mib: number(rss)?,
        rate: if rate == "–" { 0 } else { rate.parse().with_context(|| format!("not a rate: {rate}"))? },
        p50_ms: number(p50)?,
        p99_ms: number(p99)?,
        load: number(load)?,
    };
    Ok((Case { workload, guarantee, system }, figures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{row, HEADER};

    #[test]
    fn rows_read_back_as_written() {
        let case = Case { workload: Workload::W2, guarantee: Guarantee::Eos, system: System::RawState };
        let f = Figures {
            records_per_s: 655036.0,
            cpu_s_per_m: 2.19,
            broker_cpu_s_per_m: f64::NAN,
            peak_rss_mib: 119.0,
            rate: 74295,
            p50_ms: 166.0,
            p99_ms: 284.0,
            load: 2.1,
        };
        let w4 = Case { workload: Workload::W4, guarantee: Guarantee::Alos, system: System::Streamz };
        let md = format!(
            "# x\n\n## Every measurement\n\n{HEADER}\n{}\n{}\n{}\n",
            row(case, 1, &f),
            row(w4, 1, &Figures { records_per_s: 3e6, ..f }),
            row(case, 2, &Figures { records_per_s: 600000.0, ..f })
        );
        let results = measurements(&md).unwrap();
        assert_eq!(results.iter().map(|(c, r)| (*c, r.len())).collect::<Vec<_>>(), vec![(case, 2), (w4, 1)]);
        let back = results[0].1[0];
        assert_eq!((back.records_per_s, back.cpu_s_per_m, back.rate, back.p99_ms), (655036.0, 2.19, 74295, 284.0));
        assert!(back.broker_cpu_s_per_m.is_nan());
        assert_eq!(results[0].1[1].records_per_s, 600000.0);
    }

    #[test]
    fn the_label_of_earlier_results_names_raw_with_state() {
        let line = "| w2 | alos | RAW + changelog | 1 | 623000 | 2.24 | 0.70 | 130 | 70000 | 12 | 140 | 2.0 |";
        assert_eq!(parse_row(line).unwrap().0.system, System::RawState);
    }

    #[test]
    fn odd_rows_are_named() {
        let md = "## Every measurement\n\n| w1 | alos | Somebody | 1 | 1 | 1 | 1 | 1 | – | 1 | 1 | 1 |\n";
        let e = format!("{:#}", measurements(md).unwrap_err());
        assert!(e.contains("row 1") && e.contains("unknown system Somebody"), "{e}");
        assert!(measurements("# nothing").is_err());
    }
}
