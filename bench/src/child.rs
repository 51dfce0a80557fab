//! The application under test as a child process (`streamz-bench app ...`), and its CPU time and
//! peak RSS from `/proc`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::workloads::{Guarantee, System, Workload};

/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, 100 per second on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// User plus system CPU seconds process `pid` used so far.
pub(crate) fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after it are fixed.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).context("odd /proc/<pid>/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> { Ok(fields.get(i).context("short stat")?.parse::<f64>()?) };
    // `after` starts at field 3 (state): utime is field 14, stime field 15.
    Ok((ticks(11)? + ticks(12)?) / TICKS_PER_SECOND)
}

/// The process id of the Kafka broker on this machine (a JVM running `kafka.Kafka`), if one
/// runs here: the harness also reads the broker's CPU time.
pub(crate) fn broker_pid() -> Option<u32> {
    let broker = |pid: u32| {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        cmdline.split(|b| *b == 0).any(|arg| arg == b"kafka.Kafka")
    };
    let pids = std::fs::read_dir("/proc").ok()?.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    pids.into_iter().find(|pid| broker(*pid))
}

/// A running application process.
pub(crate) struct AppProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    label: String,
}

/// What `/proc` says about a process.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Usage {
    /// User plus system CPU time, in seconds.
    pub(crate) cpu_s: f64,
    /// Peak resident set size (`VmHWM`), in MiB.
    pub(crate) peak_rss_mib: f64,
}

/// What to start: the workload, the system, the guarantee and the topics.
#[derive(Clone, Debug)]
pub(crate) struct Launch {
    pub(crate) workload: Workload,
    pub(crate) system: System,
    pub(crate) guarantee: Guarantee,
    pub(crate) bootstrap: String,
    pub(crate) app_id: String,
    pub(crate) input: String,
    pub(crate) output: String,
    /// More flags: `--users`, `--alerts`, `--repartition`, `--changelog`,
    /// `--restore-records`.
    pub(crate) extra: Vec<(&'static str, String)>,
}

impl Launch {
    /// The command: this executable's `app` for streamz and RAW (under `$STREAMZ_BENCH_WRAP`
    /// when set, for profiling), `java` with `ks_classpath` for Kafka Streams.
    fn command(&self, ks_classpath: &str) -> anyhow::Result<Command> {
        let mut command = match self.system {
            System::Ks | System::Ks512 => {
                let mut c = Command::new("java");
                if self.system == System::Ks512 {
                    c.arg("-Xmx512m");
                }
                c.args(["-cp", ks_classpath, "streamz.bench.Main"]);
                // A fresh state directory: W4 reuses its application id, and must restore.
                let state_dir = std::env::temp_dir().join("ks-bench").join(&self.app_id);
                let _ = std::fs::remove_dir_all(&state_dir);
                c.arg("--state-dir").arg(state_dir);
                c
            }
            System::Streamz | System::Raw | System::RawState => {
                let exe = std::env::current_exe().context("cannot find the benchmark's own executable")?;
                // For profiling: `STREAMZ_BENCH_WRAP="valgrind --tool=callgrind"` runs the
                // application under the given command (its figures then measure the wrapper too).
                let wrap = std::env::var("STREAMZ_BENCH_WRAP").unwrap_or_default();
                let mut c = match wrap.split_whitespace().collect::<Vec<_>>().split_first() {
                    Some((program, args)) => {
                        let mut c = Command::new(program);
                        c.args(args).arg(exe);
                        c
                    }
                    None => Command::new(exe),
                };
                c.args(["app", "--system", self.system.name()]);
                c
            }
        };
        command
            .args(["--workload", self.workload.name(), "--guarantee", self.guarantee.name()])
            .args(["--bootstrap", &self.bootstrap, "--app-id", &self.app_id])
            .args(["--input", &self.input, "--output", &self.output]);
        for (flag, value) in &self.extra {
            command.args([flag, value.as_str()]);
        }
        Ok(command)
    }
}

impl AppProcess {
    /// Starts `launch` and waits until it says it consumes.
    pub(crate) fn start(launch: &Launch, ks_classpath: &str) -> anyhow::Result<AppProcess> {
        let label = format!("{} {} {}", launch.system.name(), launch.workload.name(), launch.guarantee.name());
        let mut child = launch
            .command(ks_classpath)?
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start the {label} process"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut process = AppProcess { child, stdin, lines, label };
        process.expect_line("ready", Duration::from_secs(90))?;
        Ok(process)
    }

    /// Waits for a line starting with `prefix` (other lines are ignored) and returns it.
    pub(crate) fn expect_line(&mut self, prefix: &str, timeout: Duration) -> anyhow::Result<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return Ok(line),
                Ok(_) => {}
                Err(_) => {
                    self.kill();
                    bail!("the {} process did not say `{prefix}` within {timeout:?}", self.label)
                }
            }
        }
    }

    /// CPU time and peak RSS so far.
    pub(crate) fn usage(&self) -> anyhow::Result<Usage> {
        let pid = self.child.id();
        let cpu_s = cpu_seconds(pid)?;
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
                    bail!("the {} process exited with {status}", self.label);
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
