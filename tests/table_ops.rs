//! Table operators: `filter`, `filter_not`, `map_values` (rule 10).

use streamz::prelude::*;

type Out = Vec<(String, Option<i64>, i64)>;

fn s(k: &str) -> String {
    k.to_string()
}

#[test]
fn filter_emits_a_tombstone_for_every_failing_update() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.table::<String, i64>("in").filter(|_, v| *v > 5).to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(1), 10)?; // fails, no previous value: still a tombstone
    input.pipe(s("a"), Some(2), 11)?; // fails again: again a tombstone
    input.pipe(s("a"), Some(7), 12)?;
    input.pipe(s("b"), Some(9), 13)?;
    input.pipe(s("a"), Some(3), 14)?; // leaves the filter
    input.pipe(s("b"), None, 15)?; // a delete stays a delete
    input.pipe(s("b"), None, 16)?; // a delete of an absent key too
    let out: Out = driver.output::<String, Option<i64>>("out").read_with_timestamps();
    let expected: Out = vec![
        (s("a"), None, 10),
        (s("a"), None, 11),
        (s("a"), Some(7), 12),
        (s("b"), Some(9), 13),
        (s("a"), None, 14),
        (s("b"), None, 15),
        (s("b"), None, 16),
    ];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn filter_not_keeps_what_the_predicate_rejects() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.table::<String, i64>("in").filter_not(|k, v| k == "x" || *v % 2 == 0).to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(1), 0)?;
    input.pipe(s("a"), Some(2), 1)?;
    input.pipe(s("x"), Some(3), 2)?;
    let out = driver.output::<String, Option<i64>>("out").read_key_values();
    assert_eq!(out, vec![(s("a"), Some(1)), (s("a"), None), (s("x"), None)]);
    Ok(())
}

/// The old value a filter forwards is the filtered old value: a downstream aggregation
/// subtracts only values that passed the filter.
#[test]
fn filter_forwards_the_filtered_old_value() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("in")
        .filter(|_, v| *v > 5)
        .group_by(|_, v| (s("all"), *v))
        .aggregate(|| 0i64, |_, v, sum| sum + v, |_, v, sum| sum - v)
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(10), 0)?; // +10
    input.pipe(s("a"), Some(3), 1)?; // leaves the filter: -10
    input.pipe(s("a"), Some(4), 2)?; // old value 3 was filtered out: nothing to subtract
    input.pipe(s("a"), Some(8), 3)?; // +8
    let out = driver.output::<String, Option<i64>>("out").read_values();
    assert_eq!(out, vec![Some(10), Some(0), Some(8)]);
    Ok(())
}

#[test]
fn materialized_filter_keeps_only_passing_values() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let filtered = builder.table::<String, i64>("in").filter_with(|_, v| *v > 5, Materialized::named("big"));
    filtered.to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(7), 0)?;
    input.pipe(s("b"), Some(9), 1)?;
    input.pipe(s("c"), Some(1), 2)?;
    input.pipe(s("b"), Some(2), 3)?;
    input.pipe(s("c"), Some(3), 4)?;
    let out: Out = driver.output::<String, Option<i64>>("out").read_with_timestamps();
    let expected: Out =
        vec![(s("a"), Some(7), 0), (s("b"), Some(9), 1), (s("c"), None, 2), (s("b"), None, 3), (s("c"), None, 4)];
    assert_eq!(out, expected);
    assert_eq!(driver.key_value_store::<String, i64>("big")?, vec![(s("a"), 7)]);
    Ok(())
}

#[test]
fn map_values_maps_new_values_and_passes_deletes() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("in")
        .map_values(|v| {
            assert!(v >= 0, "map_values must only see values");
            v * 10
        })
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(1), 5)?;
    input.pipe(s("a"), Some(2), 6)?;
    input.pipe(s("a"), None, 7)?;
    let out: Out = driver.output::<String, Option<i64>>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("a"), Some(10), 5), (s("a"), Some(20), 6), (s("a"), None, 7)]);
    Ok(())
}

/// The old value a mapped table forwards is the mapped old value.
#[test]
fn map_values_forwards_the_mapped_old_value() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("in")
        .map_values(|v| v * 100)
        .group_by(|_, v| (s("all"), *v))
        .reduce(|a, b| a + b, |a, b| a - b)
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(1), 0)?;
    input.pipe(s("b"), Some(2), 1)?;
    input.pipe(s("a"), Some(3), 2)?; // -100 +300
    input.pipe(s("b"), None, 3)?; // -200
    let out = driver.output::<String, Option<i64>>("out").read_values();
    assert_eq!(out, vec![Some(100), Some(300), Some(500), Some(300)]);
    Ok(())
}

#[test]
fn materialized_map_values_stores_results_with_their_timestamps() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("in")
        .map_values_with(|v| format!("#{v}"), Materialized::named("labels"))
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(1), 5)?;
    input.pipe(s("b"), Some(2), 6)?;
    input.pipe(s("a"), None, 7)?;
    let out = driver.output::<String, Option<String>>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("a"), Some(s("#1")), 5), (s("b"), Some(s("#2")), 6), (s("a"), None, 7)]);
    assert_eq!(driver.key_value_store::<String, String>("labels")?, vec![(s("b"), s("#2"))]);
    Ok(())
}

#[test]
fn map_values_with_key_sees_the_key() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder.table::<String, i64>("in").map_values_with_key(|k, v| format!("{k}{v}")).to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    driver.input::<String, Option<i64>>("in").pipe(s("a"), Some(1), 0)?;
    assert_eq!(driver.output::<String, Option<String>>("out").read_values(), vec![Some(s("a1"))]);
    Ok(())
}
