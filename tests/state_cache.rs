//! The record cache on the test driver: folding per key between commits (downstream and
//! changelog), eviction under a small budget, reads through the cache, and an oracle that the
//! table after each commit equals the cache-off run's.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use streamz::prelude::*;
use streamz::testing::DriverConfig;

const CHANGELOG: &str = "streamz-test-counts-changelog";

fn driver(builder: StreamsBuilder, cache: usize) -> anyhow::Result<TopologyTestDriver> {
    Ok(TopologyTestDriver::with_config(builder.build()?, DriverConfig::default().cache_max_bytes(cache))?)
}

/// Counts per key (store `counts`, output `counts`), and the sum of all counts through a
/// table re-grouping, whose subtractor sees each change's old value (output `total`).
fn counts_and_total(builder: &StreamsBuilder, materialized: Materialized<String, i64>) {
    let counts = builder.stream::<String, String>("in").group_by_key().count_with(materialized);
    counts.to_stream().to("counts");
    counts.group_by(|_, n| ("all".to_string(), *n)).reduce(|a, b| a + b, |a, b| a - b).to_stream().to("total");
}

/// The count value of a changelog record: an 8-byte timestamp, then the big-endian count.
fn changelog_counts(driver: &TopologyTestDriver) -> Vec<(String, i64)> {
    let decode = |b: &[u8]| i64::from_be_bytes(b[8..16].try_into().expect("8 bytes"));
    driver
        .raw_records(CHANGELOG)
        .iter()
        .map(|r| {
            let key = String::from_utf8(r.key.clone().expect("a key")).expect("utf-8");
            (key, decode(r.value.as_deref().expect("a value")))
        })
        .collect()
}

#[test]
fn a_hot_key_costs_one_record_per_commit() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    counts_and_total(&builder, Materialized::named("counts"));
    let driver = driver(builder, 1 << 20)?;
    let input = driver.input::<String, String>("in");
    let counts = driver.output::<String, Option<i64>>("counts");
    let total = driver.output::<String, Option<i64>>("total");
    for ts in 0..5 {
        input.pipe("hot".into(), "x".into(), 10 + ts)?;
    }
    input.pipe("cold".into(), "x".into(), 12)?;
    assert!(counts.read_records().is_empty(), "nothing is forwarded before the commit");
    assert!(changelog_counts(&driver).is_empty(), "nothing is logged before the commit");
    assert_eq!(driver.key_value_store::<String, i64>("counts")?, [("cold".into(), 1), ("hot".into(), 5)]);

    driver.commit()?;
    let first = counts.read_with_timestamps();
    assert_eq!(first, [("hot".to_string(), Some(5), 14), ("cold".to_string(), Some(1), 12)], "dirty order");
    assert_eq!(changelog_counts(&driver), [("hot".to_string(), 5), ("cold".to_string(), 1)]);
    // The re-grouping (not cached) adds each key's count once: no subtraction, as old = None.
    assert_eq!(total.read_values(), [Some(5), Some(6)]);

    for ts in 0..3 {
        input.pipe("hot".into(), "x".into(), 20 + ts)?;
    }
    driver.commit()?;
    assert_eq!(counts.read_with_timestamps(), [("hot".to_string(), Some(8), 22)]);
    assert_eq!(changelog_counts(&driver).len(), 3, "one more changelog record for the hot key");
    // old = 5 (the value at the last commit), new = 8: 6 - 5 + 8.
    assert_eq!(total.read_key_values(), [("all".to_string(), Some(9))]);

    driver.commit()?;
    assert!(counts.read_records().is_empty(), "a commit with nothing dirty forwards nothing");
    Ok(())
}

#[test]
fn eviction_flushes_the_store_and_keeps_results_right() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    counts_and_total(&builder, Materialized::named("counts"));
    // Room for about two entries: writing a third key evicts.
    let driver = driver(builder, 250)?;
    let input = driver.input::<String, String>("in");
    let counts = driver.output::<String, Option<i64>>("counts");
    let keys = ["a", "b", "c", "a", "a", "b", "c", "c", "a"];
    for (i, k) in keys.iter().enumerate() {
        input.pipe(k.to_string(), "x".into(), i as i64)?;
    }
    let before_commit = counts.read_key_values();
    assert!(!before_commit.is_empty(), "evictions forward before any commit");
    assert!(before_commit.len() < keys.len(), "evictions still fold: {before_commit:?}");
    driver.commit()?;
    let mut last = BTreeMap::new();
    for (k, v) in before_commit.into_iter().chain(counts.read_key_values()) {
        last.insert(k, v);
    }
    let expected: BTreeMap<String, Option<i64>> =
        [("a".into(), Some(4)), ("b".into(), Some(2)), ("c".into(), Some(3))].into();
    assert_eq!(last, expected);
    let logged: BTreeMap<String, i64> = changelog_counts(&driver).into_iter().collect();
    assert_eq!(logged, [("a".into(), 4), ("b".into(), 2), ("c".into(), 3)].into());
    let total = driver.output::<String, Option<i64>>("total").read_values();
    assert_eq!(total.last(), Some(&Some(9)), "old values were right at every flush: {total:?}");
    Ok(())
}

#[test]
fn caching_disabled_per_store_or_by_default_forwards_every_update() -> anyhow::Result<()> {
    for (cache, materialized) in [
        (1 << 20, Materialized::named("counts").with_caching_disabled()),
        (0, Materialized::named("counts").with_caching_enabled()),
    ] {
        let builder = StreamsBuilder::new();
        counts_and_total(&builder, materialized);
        let driver = driver(builder, cache)?;
        let input = driver.input::<String, String>("in");
        for k in ["a", "a", "b"] {
            input.pipe(k.into(), "x".into(), 1)?;
        }
        let expected = [("a".to_string(), Some(1)), ("a".to_string(), Some(2)), ("b".to_string(), Some(1))];
        assert_eq!(driver.output::<String, Option<i64>>("counts").read_key_values(), expected);
        assert_eq!(changelog_counts(&driver).len(), 3);
        driver.commit()?;
        assert!(driver.output::<String, Option<i64>>("counts").read_records().is_empty());
    }
    Ok(())
}

#[test]
fn joins_read_a_cached_table_before_the_commit() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let table = builder.table::<String, String>("users");
    builder.stream::<String, i64>("clicks").join_table(&table, |n, user| format!("{user}:{n}")).to("out");
    let driver = driver(builder, 1 << 20)?;
    driver.input::<String, String>("users").pipe("u".into(), "ann".into(), 1)?;
    driver.input::<String, String>("users").pipe("u".into(), "bob".into(), 2)?;
    driver.input::<String, i64>("clicks").pipe("u".into(), 7, 3)?;
    assert_eq!(driver.output::<String, String>("out").read_values(), ["bob:7"]);
    Ok(())
}

type Ops = Vec<(u8, i64, bool)>;

/// Random input: (key, value, commit after this record).
fn ops() -> impl Strategy<Value = Ops> {
    prop::collection::vec((0..4u8, -5..20i64, prop::bool::weighted(0.2)), 1..60)
}

/// The last value per key of each output topic after each commit point.
type Snapshots = Vec<Vec<BTreeMap<String, Option<i64>>>>;

/// Runs `ops` through count, reduce, aggregate and a windowed count, committing where `ops`
/// says (and at the end); returns each output's table (last value per key) at each commit.
fn run(ops: &Ops, cache: usize) -> anyhow::Result<Snapshots> {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, i64>("in").group_by_key();
    grouped.count().to_stream().to("count");
    grouped.reduce(|a, b| a.wrapping_mul(3).wrapping_add(b)).to_stream().to("reduce");
    grouped.aggregate(|| 1i64, |_, v, a| a.wrapping_mul(2).wrapping_add(v)).to_stream().to("aggregate");
    grouped
        .windowed_by(TimeWindows::hopping(Duration::from_millis(10), Duration::from_millis(5)))
        .count()
        .to_stream()
        .map(|w, n| (format!("{}@{}", w.key, w.window.start), n))
        .to("windowed");
    let driver = driver(builder, cache)?;
    let input = driver.input::<String, i64>("in");
    let outputs = ["count", "reduce", "aggregate", "windowed"];
    let mut tables = vec![BTreeMap::new(); outputs.len()];
    let mut snapshots = Vec::new();
    for (i, (k, v, commit)) in ops.iter().enumerate() {
        input.pipe(format!("k{k}"), *v, i as i64 * 3)?;
        if *commit || i + 1 == ops.len() {
            driver.commit()?;
            for (table, topic) in tables.iter_mut().zip(outputs) {
                table.extend(driver.output::<String, Option<i64>>(topic).read_key_values());
            }
            snapshots.push(tables.clone());
        }
    }
    Ok(snapshots)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Rule: with the cache on, the tables after each commit are the cache-off run's, with a
    /// large cache (folding only at commits) and with a tiny one (constant eviction).
    #[test]
    fn cached_tables_equal_the_uncached_ones_at_each_commit(ops in ops()) {
        let reference = run(&ops, 0).expect("runs");
        prop_assert_eq!(&run(&ops, 10 << 20).expect("runs"), &reference);
        prop_assert_eq!(&run(&ops, 300).expect("runs"), &reference);
    }
}
