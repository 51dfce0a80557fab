//! The Kafka Streams programs of `bench/kafka-streams/`: built with Maven when their jar is
//! missing or older than a source file, run with `java -cp <classpath> streamz.bench.Main`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{ensure, Context};

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kafka-streams")
}

/// The newest modification time under `dir`.
fn newest(dir: &Path) -> SystemTime {
    let mut latest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let time = if path.is_dir() { newest(&path) } else { modified(&path) };
        latest = latest.max(time);
    }
    latest
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Builds the project if needed and returns the classpath of `streamz.bench.Main`.
pub(crate) fn classpath() -> anyhow::Result<String> {
    let dir = project();
    let (jar, deps) = (dir.join("target/ks-bench-0.1.0.jar"), dir.join("target/classpath.txt"));
    let sources = newest(&dir.join("src")).max(modified(&dir.join("pom.xml")));
    if !jar.exists() || !deps.exists() || modified(&jar) < sources {
        println!("building {} with Maven", dir.display());
        let status = Command::new("mvn")
            .args(["-q", "-B", "package", "dependency:build-classpath", "-Dmdep.outputFile=target/classpath.txt"])
            .current_dir(&dir)
            .status()
            .context("cannot run mvn (Maven is needed for the Kafka Streams programs)")?;
        ensure!(status.success(), "mvn package failed in {}", dir.display());
    }
    let deps = std::fs::read_to_string(&deps).context("no target/classpath.txt")?;
    Ok(format!("{}:{}", jar.display(), deps.trim()))
}
