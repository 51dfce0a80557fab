//! Non-windowed aggregations of grouped streams: count, reduce, aggregate; null rules (rule 8),
//! output timestamps (rule 11), repartitioning over several partitions, naming, stores.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use streamz::prelude::*;
use streamz::task::default_partition;

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn count_skips_null_keys_and_null_values_and_counts_them_as_dropped() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<Option<String>, Option<i64>>("in").group_by_key().count().to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<Option<String>, Option<i64>>("in");
    input.pipe(Some(s("a")), Some(1), 1)?;
    input.pipe(None, Some(2), 2)?;
    input.pipe(Some(s("a")), None, 3)?;
    input.pipe(Some(s("b")), Some(4), 4)?;
    input.pipe(Some(s("a")), Some(5), 5)?;
    let out = driver.output::<Option<String>, Option<i64>>("out").read_with_timestamps();
    assert_eq!(out, vec![(Some(s("a")), Some(1), 1), (Some(s("b")), Some(1), 4), (Some(s("a")), Some(2), 5)]);
    assert_eq!(driver.metric("dropped-records"), 2);
    assert_eq!(driver.metric("dropped-records.null-key-or-value"), 2);
    Ok(())
}

#[test]
fn reduce_and_aggregate_skip_nulls_too() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<Option<String>, Option<i64>>("in").group_by_key();
    grouped.reduce(|a, b| Some(a.unwrap_or(0) + b.unwrap_or(0))).to_stream().to("reduced");
    grouped.aggregate(String::new, |_, v, agg| format!("{agg}{}", v.unwrap_or(-1))).to_stream().to("aggregated");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<Option<String>, Option<i64>>("in");
    input.pipe(Some(s("a")), Some(1), 0)?;
    input.pipe(Some(s("a")), None, 1)?;
    input.pipe(None, Some(7), 2)?;
    input.pipe(Some(s("a")), Some(2), 3)?;
    let reduced = driver.output::<Option<String>, Option<Option<i64>>>("reduced").read_values();
    assert_eq!(reduced, vec![Some(Some(1)), Some(Some(3))]);
    let aggregated = driver.output::<Option<String>, Option<String>>("aggregated").read_values();
    assert_eq!(aggregated, vec![Some(s("1")), Some(s("12"))]);
    // Two operators, two records each.
    assert_eq!(driver.metric("dropped-records"), 4);
    Ok(())
}

#[test]
fn aggregation_timestamps_are_the_max_of_record_and_previous_aggregate() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").group_by_key().reduce(|a, b| a + b).to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, i64>("in");
    input.pipe(s("a"), 1, 100)?;
    input.pipe(s("a"), 2, 50)?; // out of order: keeps 100
    input.pipe(s("b"), 3, 10)?; // another key has its own timestamp
    input.pipe(s("a"), 4, 150)?;
    input.pipe(s("b"), 5, 5)?;
    let out = driver.output::<String, Option<i64>>("out").read_with_timestamps();
    let expected = vec![
        (s("a"), Some(1), 100),
        (s("a"), Some(3), 100),
        (s("b"), Some(3), 10),
        (s("a"), Some(7), 150),
        (s("b"), Some(8), 10),
    ];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn select_key_then_count_over_four_partitions() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").select_key(|_, v| v.clone()).group_by_key().count().to_stream().to("out");
    let driver = TopologyTestDriver::with_config(builder.build()?, DriverConfig::default().partitions("in", 4))?;
    let repartition = "streamz-test-KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition";
    let plan = driver.plan();
    assert_eq!(plan.tasks.len(), 8, "{plan:?}");
    let topic = plan.internal_topics.iter().find(|t| t.name == repartition);
    assert_eq!(topic.map(|t| t.partitions), Some(4), "{plan:?}");

    let input = driver.input::<String, String>("in");
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for i in 0..200i64 {
        let word = format!("w{}", (i * 7) % 13);
        *expected.entry(word.clone()).or_default() += 1;
        input.pipe(format!("user-{i}"), word, i)?;
    }
    let in_partitions: BTreeSet<i32> = driver.raw_records("in").iter().map(|r| r.partition).collect();
    assert_eq!(in_partitions.len(), 4, "the input should reach every partition");

    let raw = driver.raw_records(repartition);
    assert_eq!(raw.len(), 200);
    for r in &raw {
        assert_eq!(r.partition, default_partition(r.key.as_deref().expect("keyed"), 4), "{r:?}");
    }
    let used: BTreeSet<i32> = raw.iter().map(|r| r.partition).collect();
    assert!(used.len() > 1, "repartitioned records all went to {used:?}");

    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    let out = driver.output::<String, Option<i64>>("out").read_key_values();
    assert_eq!(out.len(), 200);
    for (k, v) in out {
        let v = v.expect("counts are never deleted");
        let prev = last.insert(k, v).unwrap_or(0);
        assert_eq!(v, prev + 1, "each key's count goes up by one");
    }
    assert_eq!(last, expected);
    Ok(())
}

#[test]
fn grouped_and_materialized_names_name_the_internal_topics_and_store() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .group_by_with(|_, v| v % 2 == 0, Grouped::named("by-parity"))
        .count_with(Materialized::named("parity-counts"));
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let names: Vec<String> = driver.plan().internal_topics.into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec![s("streamz-test-by-parity-repartition"), s("streamz-test-parity-counts-changelog")]);
    let input = driver.input::<String, i64>("in");
    for v in [1, 2, 3, 5, 8] {
        input.pipe(s("x"), v, v)?;
    }
    assert_eq!(driver.raw_records("streamz-test-by-parity-repartition").len(), 5);
    let mut store = driver.key_value_store::<bool, i64>("parity-counts")?;
    store.sort();
    assert_eq!(store, vec![(false, 3), (true, 2)]);
    Ok(())
}

#[test]
fn materialized_name_alone_names_the_repartition_topic_after_the_store() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").select_key(|_, v| *v).group_by_key().aggregate_with(
        || 0i64,
        |_, v, sum| sum + v,
        Materialized::named("sums"),
    );
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let names: Vec<String> = driver.plan().internal_topics.into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec![s("streamz-test-sums-repartition"), s("streamz-test-sums-changelog")]);
    driver.input::<String, i64>("in").pipe(s("a"), 4, 0)?;
    driver.input::<String, i64>("in").pipe(s("b"), 4, 1)?;
    assert_eq!(driver.key_value_store::<i64, i64>("sums")?, vec![(4, 8)]);
    Ok(())
}

#[test]
fn group_by_key_without_key_change_does_not_repartition() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").filter(|_, v| *v > 0).group_by_key().count_with(Materialized::named("c"));
    let topology = builder.build()?;
    assert_eq!(topology.subtopologies().len(), 1);
    let driver = TopologyTestDriver::with_config(topology, DriverConfig::default().partitions("in", 3))?;
    let names: Vec<String> = driver.plan().internal_topics.into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec![s("streamz-test-c-changelog")]);
    for k in ["a", "b", "c", "a"] {
        driver.input::<String, i64>("in").pipe(s(k), 1, 0)?;
    }
    let mut store = driver.key_value_store::<String, i64>("c")?;
    store.sort();
    assert_eq!(store, vec![(s("a"), 2), (s("b"), 1), (s("c"), 1)]);
    Ok(())
}

/// What the aggregation computes per key: (count, sum, largest timestamp).
type Agg = (i64, i64, i64);

fn oracle(input: &[(u8, i64, i64)]) -> BTreeMap<i64, Agg> {
    let mut out: BTreeMap<i64, Agg> = BTreeMap::new();
    for &(_, v, ts) in input {
        let e = out.entry(v.rem_euclid(7)).or_insert((0, 0, i64::MIN));
        *e = (e.0 + 1, e.1 + v, e.2.max(ts));
    }
    out
}

fn run_topology(input: &[(u8, i64, i64)], partitions: i32) -> anyhow::Result<(BTreeMap<i64, Agg>, BTreeMap<i64, Agg>)> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .select_key(|_, v| v.rem_euclid(7))
        .group_by_key()
        .aggregate_with(|| (0i64, 0i64), |_, v, (n, sum)| (n + 1, sum + v), Materialized::named("agg"))
        .to_stream()
        .to("out");
    let driver =
        TopologyTestDriver::with_config(builder.build()?, DriverConfig::default().partitions("in", partitions))?;
    let topic = driver.input::<String, i64>("in");
    for &(k, v, ts) in input {
        topic.pipe(format!("k{k}"), v, ts)?;
    }
    let mut emitted = BTreeMap::new();
    for (k, v, ts) in driver.output::<i64, Option<(i64, i64)>>("out").read_with_timestamps() {
        let (n, sum) = v.expect("aggregates are never deleted");
        emitted.insert(k, (n, sum, ts));
    }
    let stored = driver.key_value_store::<i64, (i64, i64)>("agg")?;
    let stored =
        stored.into_iter().map(|(k, (n, sum))| (k, (n, sum, emitted.get(&k).map_or(i64::MIN, |e| e.2)))).collect();
    Ok((emitted, stored))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// select_key + group_by_key + aggregate equals a fold over a BTreeMap, over 1–4 partitions:
    /// the last output per key and the store hold the fold's value; the last output's timestamp
    /// is the key's largest timestamp.
    #[test]
    fn aggregate_matches_a_btreemap_fold(
        input in proptest::collection::vec((0u8..10, -50i64..50, 0i64..1_000), 0..60),
        partitions in 1i32..=4,
    ) {
        let (emitted, stored) = run_topology(&input, partitions).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected = oracle(&input);
        prop_assert_eq!(&emitted, &expected);
        prop_assert_eq!(&stored, &expected);
    }
}
