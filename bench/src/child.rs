//! The application under test as a child process (`streamz-bench app ...`), and its CPU time and
//! peak RSS from `/proc`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::workloads::Workload;

/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, 100 per second on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// A running application process.
pub(crate) struct AppProcess {
    child: Child,
    stdin: Option<ChildStdin>,
}

/// What `/proc` says about a process.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Usage {
    /// User plus system CPU time, in seconds.
    pub(crate) cpu_s: f64,
    /// Peak resident set size (`VmHWM`), in MiB.
    pub(crate) peak_rss_mib: f64,
}

impl AppProcess {
    /// Starts `workload` from this executable and waits until it says it consumes.
    pub(crate) fn start(
        workload: Workload,
        bootstrap: &str,
        app_id: &str,
        input: &str,
        output: &str,
    ) -> anyhow::Result<AppProcess> {
        let exe = std::env::current_exe().context("cannot find the benchmark's own executable")?;
        // For profiling: `STREAMZ_BENCH_WRAP="valgrind --tool=callgrind"` runs the application
        // under the given command (its figures then measure the wrapper too).
        let wrap = std::env::var("STREAMZ_BENCH_WRAP").unwrap_or_default();
        let mut command = match wrap.split_whitespace().collect::<Vec<_>>().split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        let mut child = command
            .args(["app", "--workload", workload.name(), "--bootstrap", bootstrap, "--app-id", app_id])
            .args(["--input", input, "--output", output])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the application process")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let stdin = child.stdin.take();
        let mut process = AppProcess { child, stdin };
        match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(line) if line.trim() == "ready" => Ok(process),
            Ok(line) => {
                process.kill();
                bail!("the {} process did not start (said {:?})", workload.name(), line.trim())
            }
            Err(_) => {
                process.kill();
                bail!("the {} process was not ready after 90 s", workload.name())
            }
        }
    }

    /// CPU time and peak RSS so far.
    pub(crate) fn usage(&self) -> anyhow::Result<Usage> {
        let pid = self.child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The command name (field 2) may hold spaces; the fields after it are fixed.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).context("odd /proc/<pid>/stat")?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| -> anyhow::Result<f64> { Ok(fields.get(i).context("short stat")?.parse::<f64>()?) };
        // `after` starts at field 3 (state): utime is field 14, stime field 15.
        let cpu_s = (ticks(11)? + ticks(12)?) / TICKS_PER_SECOND;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let hwm_kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")?;
        Ok(Usage { cpu_s, peak_rss_mib: hwm_kib / 1024.0 })
    }

    /// Asks the process to shut down cleanly and waits for it (killing it after 60 s).
    pub(crate) fn stop(mut self) -> anyhow::Result<()> {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "stop");
        }
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("the application process exited with {status}");
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.kill();
        bail!("the application process did not stop within 60 s")
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}
