//! W3, fraud: trades joined with their user (a global table), a per-user hopping-window sum, and a per-user
//! trade history (the last 100 amounts) that flags a trade above 5× the user's median.
//! `bench/kafka-streams/src/main/java/streamz/bench/{Workloads,History}.java` is the same
//! topology for Kafka Streams.

use std::time::Duration;

use streamz::prelude::*;
use streamz::processor::{Processor, ProcessorContext};
use streamz::state::KeyValueStore;
use streamz::task::lock;
use streamz::task::StoreRef;
use streamz::topology::Topology;

use crate::input::Order;

/// The history store's name.
const HISTORY: &str = "w3-history";
/// Amounts kept per user.
const KEEP: usize = 100;
/// A trade above `FACTOR` × the median of the history is an alert.
const FACTOR: i64 = 5;

/// The W3 topology: `input` trades keyed by user, `users` the users table, window sums to
/// `output`, alerts (`"amount,median"`) to `alerts`.
pub(crate) fn w3(input: &str, users: &str, output: &str, alerts: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    // A global table: both systems load it whole before processing, so no trade misses its user.
    // (A co-partitioned table would do in Kafka Streams, which waits until every input partition
    // of a task has data; streamz's task processes whatever partition has data, so the first
    // trades would find the users table still empty.)
    let users = builder.global_table::<String, String>(users);
    let trades = builder.stream::<String, Json<Order>>(input).join_global(
        &users,
        |user, _| user.clone(),
        |order, user| if user.is_empty() { 0 } else { order.amount },
    );
    let windows = TimeWindows::hopping(Duration::from_secs(60), Duration::from_secs(10)).grace(Duration::from_secs(5));
    trades
        .group_by_key()
        .windowed_by(windows)
        .aggregate_with(|| 0i64, |_, amount, sum| sum + amount, Materialized::named("w3-sums"))
        .to_stream()
        .map(|k: Windowed<String>, sum| (format!("{}@{}", k.key, k.window.start.0), sum.unwrap_or(0).to_string()))
        .to(output);
    builder.add_key_value_store::<String, Bincode<Vec<i64>>>(Materialized::named(HISTORY));
    trades.process_values(History::default, &[HISTORY]).to(alerts);
    Ok(builder.build()?)
}

/// The trade history of each user, and the alerts.
#[derive(Default)]
struct History {
    store: Option<StoreRef<dyn KeyValueStore<String, Bincode<Vec<i64>>>>>,
}

impl Processor<String, i64, String, String> for History {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> streamz::Result<()> {
        self.store = Some(ctx.key_value_store(HISTORY)?);
        Ok(())
    }

    fn process(
        &mut self,
        record: Record<String, i64>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> streamz::Result<()> {
        let Some(store) = &self.store else { return Ok(()) };
        let amount = record.value;
        let mut history = lock(store).get(&record.key).map(|h| h.0).unwrap_or_default();
        let alert = median(&history).filter(|m| amount > FACTOR * m).map(|m| format!("{amount},{m}"));
        if history.len() >= KEEP {
            history.drain(..history.len() + 1 - KEEP);
        }
        history.push(amount);
        lock(store).put(&record.key, Bincode(history));
        if let Some(alert) = alert {
            ctx.forward(Record {
                key: record.key,
                value: alert,
                timestamp: record.timestamp,
                headers: record.headers,
            })?;
        }
        Ok(())
    }
}

/// The upper median (the element at index len / 2 once sorted), as `History.java` takes it.
fn median(history: &[i64]) -> Option<i64> {
    if history.is_empty() {
        return None;
    }
    let mut sorted = history.to_vec();
    sorted.sort_unstable();
    Some(sorted[sorted.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_the_upper_middle() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5, 1, 3]), Some(3));
        assert_eq!(median(&[4, 1, 3, 2]), Some(3));
    }

    #[test]
    fn alerts_above_five_times_the_median_and_keeps_one_hundred() -> anyhow::Result<()> {
        // Late enough for all six hopping windows of a trade to start at or after 0.
        const T: i64 = 1_000_000;
        let topology = w3("trades", "users", "sums", "alerts")?;
        let driver = TopologyTestDriver::new(topology)?;
        driver.input::<String, Option<String>>("users").pipe("u".into(), Some("tier-1".into()), 0)?;
        let trades = driver.input::<String, Json<Order>>("trades");
        let order = |amount| Json(Order { id: 1, amount, region: "eu-1".into() });
        for (i, amount) in [10, 10, 51, 50, 300].into_iter().enumerate() {
            trades.pipe("u".into(), order(amount), T + i as i64)?;
        }
        // median of [10, 10] is 10: 51 alerts; of [10, 10, 51] 10: 50 does not; of
        // [10, 10, 51, 50] 50: 300 alerts.
        assert_eq!(driver.output::<String, String>("alerts").read_values(), vec!["51,10", "300,50"]);
        for i in 0..200 {
            trades.pipe("u".into(), order(1), T + 10 + i)?;
        }
        let history = driver.key_value_store::<String, Bincode<Vec<i64>>>(HISTORY)?;
        assert_eq!(history[0].1 .0, vec![1; KEEP]);
        // Every trade updates its six hopping windows.
        assert_eq!(driver.output::<String, String>("sums").read_values().len(), 6 * 205);
        Ok(())
    }
}
