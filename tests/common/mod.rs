//! Shared helpers of the integration tests: the local Kafka broker and unique names.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use streamz::prelude::*;

/// The bootstrap servers of a real local Kafka broker: the one named by `$STREAMZ_BOOTSTRAP`,
/// else the project's own (`scripts/kafka.sh start`, which reuses a running one).
pub fn bootstrap() -> String {
    static BOOTSTRAP: OnceLock<String> = OnceLock::new();
    BOOTSTRAP
        .get_or_init(|| {
            if let Some(b) = std::env::var("STREAMZ_BOOTSTRAP").ok().filter(|b| !b.is_empty()) {
                return b;
            }
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka.sh");
            let out = Command::new("bash").arg(script).arg("start").output().expect("cannot run scripts/kafka.sh");
            assert!(
                out.status.success(),
                "cannot start the local Kafka broker with scripts/kafka.sh:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            stdout.lines().last().expect("scripts/kafka.sh start printed no address").trim().to_string()
        })
        .clone()
}

/// A name no other test (or earlier run) uses: `<prefix>-<pid>-<n>-<time>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    format!("{prefix}-{}-{n}-{t}", std::process::id())
}

/// A fresh state directory: each instance of one application in a test needs its own (a
/// running instance locks its directory).
pub fn state_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("streamz-tests").join(unique("state"))
}

/// The values of each key, in order.
pub fn per_key<K: Ord + Clone, V: Clone>(records: &[Record<K, V>]) -> BTreeMap<K, Vec<V>> {
    let mut out: BTreeMap<K, Vec<V>> = BTreeMap::new();
    for r in records {
        out.entry(r.key.clone()).or_default().push(r.value.clone());
    }
    out
}

/// The last value of each key.
pub fn last_per_key<K: Ord + Clone, V: Clone>(records: &[Record<K, V>]) -> BTreeMap<K, V> {
    records.iter().map(|r| (r.key.clone(), r.value.clone())).collect()
}
