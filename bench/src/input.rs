//! The input of the Kafka benchmarks: seeded orders, produced in bulk before a run or at a fixed
//! rate while the application runs.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;

use crate::rng::SplitMix;

/// An input value: about 45 bytes of JSON, e.g. `{"id":17,"amount":537,"region":"eu-3"}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) amount: i64,
    pub(crate) region: String,
}

/// W1's filter: keeps nine orders in ten.
pub(crate) fn passes(order: &Order) -> bool {
    order.amount % 10 != 0
}

/// Seeded orders with keys `key-<n>`, `n < keys`.
pub(crate) struct Orders {
    rng: SplitMix,
    keys: u64,
    next_id: u64,
}

impl Orders {
    pub(crate) fn new(seed: u64, keys: u64) -> Self {
        Orders { rng: SplitMix(seed), keys: keys.max(1), next_id: 0 }
    }

    pub(crate) fn next(&mut self) -> (String, Order) {
        let key = format!("key-{}", self.rng.next() % self.keys);
        let mut amount = (self.rng.next() % 1_000) as i64;
        let region = format!("eu-{}", self.rng.next() % 8);
        self.next_id += 1;
        // Now and then a large one, for W3's alerts.
        if self.next_id.is_multiple_of(499) {
            amount += 5_000;
        }
        (key, Order { id: self.next_id, amount, region })
    }
}

/// What was produced: how many records, and how many pass W1's filter.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Produced {
    pub(crate) records: u64,
    pub(crate) passing: u64,
}

/// Produces `records` orders to `topic` as fast as the producer goes, stamped with the current
/// time, and waits until all are acknowledged.
pub(crate) fn produce_bulk(client: &KafkaClient, topic: &str, records: u64, keys: u64) -> anyhow::Result<Produced> {
    let mut orders = Orders::new(42, keys);
    let mut produced = Produced::default();
    let items = (0..records).map(|_| {
        let (key, order) = orders.next();
        produced.records += 1;
        produced.passing += u64::from(passes(&order));
        encode(key, &order)
    });
    client.produce_raw(topic, items)?;
    Ok(produced)
}

/// Produces orders to `topic` at `rate` records/s for `duration`, each stamped with the time it
/// is handed to the producer (the latency phase measures from there).
pub(crate) fn produce_paced(
    client: &KafkaClient,
    topic: &str,
    rate: u64,
    duration: Duration,
    keys: u64,
) -> anyhow::Result<Produced> {
    let mut orders = Orders::new(7, keys);
    let total = (rate as f64 * duration.as_secs_f64()) as u64;
    let start = Instant::now();
    let mut produced = Produced::default();
    let items = (0..total).map(|i| {
        // Record i is due at i / rate seconds after the start.
        let due = start + Duration::from_secs_f64(i as f64 / rate.max(1) as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let (key, order) = orders.next();
        produced.records += 1;
        produced.passing += u64::from(passes(&order));
        encode(key, &order)
    });
    client.produce_raw(topic, items)?;
    Ok(produced)
}

/// A record as the producer sends it: the key's UTF-8, the order's JSON (what `String` and
/// `Json<Order>` encode), stamped now. Encoded here, one record at a time, because
/// `KafkaClient::produce` encodes the whole batch before sending the first record.
fn encode(key: String, order: &Order) -> (Option<Vec<u8>>, Option<Vec<u8>>, Timestamp) {
    let value = serde_json::to_vec(order).expect("an order encodes");
    (Some(key.into_bytes()), Some(value), Timestamp::now())
}

/// W3's users table: `key-<n>` → `tier-<n mod 3>` for every key.
pub(crate) fn produce_users(client: &KafkaClient, topic: &str, keys: u64) -> anyhow::Result<()> {
    let items = (0..keys.max(1)).map(|n| (format!("key-{n}"), format!("tier-{}", n % 3), Timestamp::now()));
    client.produce(topic, items)?;
    Ok(())
}
