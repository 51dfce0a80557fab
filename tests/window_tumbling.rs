//! Tumbling window aggregations: rules 1, 2, 5, 7, 8 and 11 of KAFKA_STREAMS_SEMANTICS.md.

use std::time::Duration;

use streamz::prelude::*;

type Out<K, A> = Vec<(Windowed<K>, Option<A>, i64)>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn w(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(key.to_string(), start, end)
}

/// `in` (String → String) counted in tumbling windows of 10 ms with `grace`, to `out`.
fn counting(grace: u64) -> anyhow::Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::tumbling(ms(10)).grace(ms(grace));
    builder.stream::<String, String>("in").group_by_key().windowed_by(windows).count().to_stream().to("out");
    Ok(TopologyTestDriver::new(builder.build()?)?)
}

#[test]
fn windows_are_epoch_aligned_with_exclusive_ends_and_carry_the_newest_timestamp() -> anyhow::Result<()> {
    let driver = counting(100)?;
    let input = driver.input::<String, String>("in");
    input.pipe("a".into(), "x".into(), 0)?;
    input.pipe("a".into(), "x".into(), 9)?;
    input.pipe("a".into(), "x".into(), 10)?;
    input.pipe("b".into(), "x".into(), 3)?;
    input.pipe("a".into(), "x".into(), 4)?; // out of order: the window keeps timestamp 9
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("a", 0, 10), Some(1), 0),
        (w("a", 0, 10), Some(2), 9),
        (w("a", 10, 20), Some(1), 10),
        (w("b", 0, 10), Some(1), 3),
        (w("a", 0, 10), Some(3), 9),
    ];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn a_window_is_updated_only_while_its_end_is_after_stream_time_minus_grace() -> anyhow::Result<()> {
    let driver = counting(10)?;
    let input = driver.input::<String, String>("in");
    input.pipe("a".into(), "x".into(), 29)?; // st 29: [10, 20) is open, 20 > 29 - 10
    input.pipe("a".into(), "x".into(), 10)?;
    input.pipe("b".into(), "x".into(), 30)?; // st 30: [10, 20) closes, 20 <= 30 - 10
    input.pipe("a".into(), "x".into(), 19)?;
    input.pipe("a".into(), "x".into(), 20)?; // [20, 30) is still open
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("a", 20, 30), Some(1), 29),
        (w("a", 10, 20), Some(1), 10),
        (w("b", 30, 40), Some(1), 30),
        (w("a", 20, 30), Some(2), 29),
    ];
    assert_eq!(out, expected);
    assert_eq!(driver.metric("dropped-records"), 1);
    assert_eq!(driver.metric("dropped-records.late"), 1);
    Ok(())
}

#[test]
fn stream_time_is_the_operators_own_not_the_tasks() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::tumbling(ms(10));
    let kept = builder.stream::<String, String>("in").filter(|_, v| v != "skip");
    kept.group_by_key().windowed_by(windows).count().to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, String>("in");
    input.pipe("a".into(), "skip".into(), 100)?; // advances the task's stream time only
    input.pipe("a".into(), "x".into(), 5)?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    assert_eq!(out, vec![(w("a", 0, 10), Some(1), 5)]);
    assert_eq!(driver.metric("dropped-records"), 0);
    Ok(())
}

#[test]
fn null_keys_are_skipped_without_advancing_stream_time_and_null_values_are_counted() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::tumbling(ms(10));
    let grouped = builder.stream::<Option<String>, Option<String>>("in").group_by_key();
    grouped.windowed_by(windows).count().to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<Option<String>, Option<String>>("in");
    input.pipe(None, Some("x".into()), 100)?;
    input.pipe(Some("a".into()), None, 5)?;
    input.pipe(Some("a".into()), Some("y".into()), 6)?;
    let out: Out<Option<String>, i64> = driver.output("out").read_with_timestamps();
    let a = |s, e| Windowed::new(Some("a".to_string()), s, e);
    assert_eq!(out, vec![(a(0, 10), Some(1), 5), (a(0, 10), Some(2), 6)]);
    assert_eq!(driver.metric("dropped-records.null-key"), 1);
    assert_eq!(driver.metric("dropped-records"), 1);
    Ok(())
}

#[test]
fn aggregate_and_reduce_see_values_in_arrival_order() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("in").group_by_key();
    let windowed = grouped.windowed_by(TimeWindows::tumbling(ms(10)).grace(ms(50)));
    windowed.aggregate(|| "^".to_string(), |k, v, agg| format!("{agg}{k}{v}")).to_stream().to("agg");
    windowed.reduce(|a, b| format!("{a}+{b}")).to_stream().to("red");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, String>("in");
    input.pipe("k".into(), "1".into(), 12)?;
    input.pipe("k".into(), "2".into(), 3)?;
    input.pipe("k".into(), "3".into(), 11)?;
    let agg: Out<String, String> = driver.output("agg").read_with_timestamps();
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        agg,
        vec![(w("k", 10, 20), s("^k1"), 12), (w("k", 0, 10), s("^k2"), 3), (w("k", 10, 20), s("^k1k3"), 12)]
    );
    let red: Out<String, String> = driver.output("red").read_with_timestamps();
    assert_eq!(red, vec![(w("k", 10, 20), s("1"), 12), (w("k", 0, 10), s("2"), 3), (w("k", 10, 20), s("1+3"), 12)]);
    Ok(())
}

#[test]
fn select_key_then_windowed_count_repartitions_over_several_partitions() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let by_page = builder.stream::<String, String>("clicks").select_key(|_, page| page.clone());
    by_page.group_by_key().windowed_by(TimeWindows::tumbling(ms(10))).count().to_stream().to("out");
    let config = DriverConfig::default().partitions("clicks", 4);
    let driver = TopologyTestDriver::with_config(builder.build()?, config)?;
    let plan = driver.plan();
    assert!(plan.internal_topics.iter().any(|t| t.name.ends_with("-repartition") && t.partitions == 4));
    let input = driver.input::<String, String>("clicks");
    for (user, page, ts) in
        [("u1", "home", 1), ("u2", "home", 2), ("u3", "cart", 3), ("u4", "home", 12), ("u5", "home", 4)]
    {
        input.pipe(user.into(), page.into(), ts)?;
    }
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("home", 0, 10), Some(1), 1),
        (w("home", 0, 10), Some(2), 2),
        (w("cart", 0, 10), Some(1), 3),
        (w("home", 10, 20), Some(1), 12),
    ];
    assert_eq!(out, expected);
    // The record at 4 reached the same task as the one at 12 (same page) after it: late.
    assert_eq!(driver.metric("dropped-records.late"), 1);
    Ok(())
}

#[test]
fn store_holds_each_window_and_retention_below_size_plus_grace_is_rejected() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::tumbling(ms(10)).grace(ms(5));
    let grouped = builder.stream::<String, String>("in").group_by_key();
    grouped.windowed_by(windows).count_with(Materialized::named("counts").with_retention(ms(15)));
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, String>("in");
    input.pipe("a".into(), "x".into(), 3)?;
    input.pipe("a".into(), "x".into(), 14)?;
    let stored = driver.window_store::<String, i64>("counts", Timestamp(0), Timestamp(100))?;
    assert_eq!(stored, vec![("a".to_string(), Timestamp(0), 1), ("a".to_string(), Timestamp(10), 1)]);

    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("in").group_by_key();
    grouped.windowed_by(windows).count_with(Materialized::named("counts").with_retention(ms(14)));
    match builder.build() {
        Err(TopologyError::InvalidWindow { operator, reason }) => {
            assert_eq!(operator, "counts");
            assert!(reason.contains("14ms") && reason.contains("15ms"), "{reason}");
        }
        other => panic!("expected an invalid window, got {other:?}"),
    }
    Ok(())
}

#[test]
fn invalid_windows_fail_the_build() {
    let cases = [
        (TimeWindows::tumbling(Duration::ZERO), "window size must be positive"),
        (TimeWindows::hopping(ms(10), ms(20)), "window advance must not be larger than the window size"),
        (TimeWindows::hopping(ms(10), Duration::ZERO), "window advance must be positive"),
    ];
    for (windows, expected) in cases {
        let builder = StreamsBuilder::new();
        builder.stream::<String, String>("in").group_by_key().windowed_by(windows).count();
        match builder.build() {
            Err(TopologyError::InvalidWindow { reason, .. }) => assert_eq!(reason, expected),
            other => panic!("expected an invalid window, got {other:?}"),
        }
    }
}
