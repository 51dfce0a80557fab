//! The same topologies on in-memory and RocksDB stores give the same output, record for
//! record: windowed, session, table and join state, with pseudo-random keyed input.

use std::time::Duration;

use streamz::prelude::*;
use streamz::state::StoreBackend;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A topology with every kind of store: a tumbling count, a session count, a table
/// aggregation after `group_by`, a stream-stream join, each to its own output topic.
fn topology() -> anyhow::Result<streamz::topology::Topology> {
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, i64>("in");
    let grouped = input.group_by_key();
    grouped.windowed_by(TimeWindows::tumbling(ms(100)).grace(ms(50))).count().to_stream().to("tumbling");
    grouped.windowed_by(SessionWindows::with_inactivity_gap(ms(30)).grace(ms(20))).count().to_stream().to("sessions");
    builder
        .table::<String, i64>("table")
        .group_by(|k, v| (k.chars().take(1).collect::<String>(), *v))
        .aggregate(|| 0i64, |_, v, sum| sum + v, |_, v, sum| sum - v)
        .to_stream()
        .to("groups");
    let other = builder.stream::<String, i64>("other");
    let window = JoinWindows::of(ms(20)).grace(ms(10));
    input.outer_join(&other, |a, b| format!("{a:?}+{b:?}"), window).to("joined");
    Ok(builder.build()?)
}

type Outputs = Vec<Vec<(String, String, i64)>>;

fn run(backend: StoreBackend, seed: u64) -> anyhow::Result<Outputs> {
    let config = DriverConfig::default().default_store_backend(backend);
    let driver = TopologyTestDriver::with_config(topology()?, config)?;
    let mut rng = seed;
    let mut next = move |n: u64| {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (rng >> 33) % n
    };
    let keys = ["a", "ab", "a\0", "b", "ba", ""];
    let mut time = 0i64;
    for _ in 0..600 {
        time += next(20) as i64;
        // Out of order now and then, sometimes beyond the grace.
        let ts = time - next(4) as i64 * next(40) as i64;
        let key = keys[next(keys.len() as u64) as usize].to_string();
        let value = next(100) as i64;
        match next(3) {
            0 => driver.input::<String, i64>("in").pipe(key, value, ts.max(0))?,
            1 => driver.input::<String, i64>("table").pipe(key, value, ts.max(0))?,
            _ => driver.input::<String, i64>("other").pipe(key, value, ts.max(0))?,
        }
    }
    let show = |topic: &str| -> Vec<(String, String, i64)> {
        let records = driver.output::<Windowed<String>, Option<i64>>(topic).read_with_timestamps();
        records.into_iter().map(|(k, v, t)| (format!("{k:?}"), format!("{v:?}"), t)).collect()
    };
    let mut out = vec![show("tumbling"), show("sessions")];
    let groups = driver.output::<String, Option<i64>>("groups").read_with_timestamps();
    out.push(groups.into_iter().map(|(k, v, t)| (k, format!("{v:?}"), t)).collect());
    let joined = driver.output::<String, String>("joined").read_with_timestamps();
    out.push(joined);
    Ok(out)
}

#[test]
fn rocksdb_stores_give_the_output_of_in_memory_stores() -> anyhow::Result<()> {
    for seed in [1, 2, 3] {
        let memory = run(StoreBackend::InMemory, seed)?;
        let rocksdb = run(StoreBackend::RocksDb, seed)?;
        assert!(memory.iter().all(|o| !o.is_empty()), "every output has records");
        for (m, r) in memory.iter().zip(&rocksdb) {
            assert_eq!(m, r);
        }
    }
    Ok(())
}

#[test]
fn materialized_with_backend_overrides_the_default() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .group_by_key()
        .count_with(Materialized::named("counts").with_backend(StoreBackend::RocksDb))
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    driver.input::<String, i64>("in").pipe("k".into(), 1, 0)?;
    assert_eq!(driver.key_value_store::<String, i64>("counts")?, [("k".to_string(), 1)]);
    assert!(driver.state_dir().join("0_0").join("counts").join("CURRENT").exists());
    let dir = driver.state_dir();
    drop(driver);
    assert!(!dir.exists(), "the driver deletes its state directory");
    Ok(())
}
