//! Counters of a running topology.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::lock;

/// Named counters shared by the tasks of an application or a test driver: records processed,
/// records dropped by reason, and so on.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    /// Adds `n` to counter `name`.
    pub fn add(&self, name: &str, n: u64) {
        let mut counters = lock(&self.counters);
        match counters.get_mut(name) {
            Some(c) => *c += n,
            None => {
                counters.insert(name.to_string(), n);
            }
        }
    }

    /// The value of counter `name` (0 when never counted).
    pub fn get(&self, name: &str) -> u64 {
        lock(&self.counters).get(name).copied().unwrap_or(0)
    }

    /// All counters.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        lock(&self.counters).clone()
    }

    /// Counts a record dropped by `node` for `reason`: `dropped-records`,
    /// `dropped-records.<reason>` and `dropped-records.<node>.<reason>`.
    pub fn record_dropped(&self, node: &str, reason: &str) {
        self.add("dropped-records", 1);
        self.add(&format!("dropped-records.{reason}"), 1);
        self.add(&format!("dropped-records.{node}.{reason}"), 1);
    }
}
