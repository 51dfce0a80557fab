//! Session window aggregations: rules 4, 5, 7, 8 and 11 and difference D1 of
//! KAFKA_STREAMS_SEMANTICS.md.

use std::time::Duration;

use streamz::prelude::*;

type Out<K, A> = Vec<(Windowed<K>, Option<A>, i64)>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn w(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(key.to_string(), start, end)
}

/// `in` counted in sessions with a gap of 10 ms and `grace`, to `out`.
fn counting(grace: u64) -> anyhow::Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    let sessions = SessionWindows::with_inactivity_gap(ms(10)).grace(ms(grace));
    builder.stream::<String, String>("in").group_by_key().windowed_by(sessions).count().to_stream().to("out");
    Ok(TopologyTestDriver::new(builder.build()?)?)
}

#[test]
fn merging_deletes_each_merged_session_at_its_end_then_emits_the_merged_one() -> anyhow::Result<()> {
    let driver = counting(100)?;
    let input = driver.input::<String, String>("in");
    input.pipe("a".into(), "x".into(), 0)?;
    input.pipe("a".into(), "x".into(), 30)?; // 30 - 0 > gap: a new session
    input.pipe("a".into(), "x".into(), 20)?; // within the gap of both (0 ends at 0 >= 20 - 10? no)
    input.pipe("a".into(), "x".into(), 10)?; // bridges [0, 0] and [20, 30]
    input.pipe("b".into(), "x".into(), 12)?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("a", 0, 0), Some(1), 0),
        (w("a", 30, 30), Some(1), 30),
        (w("a", 30, 30), None, 30),
        (w("a", 20, 30), Some(2), 30),
        (w("a", 0, 0), None, 0),
        (w("a", 20, 30), None, 30),
        (w("a", 0, 30), Some(4), 30),
        (w("b", 12, 12), Some(1), 12),
    ];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn a_record_inside_a_session_with_the_same_bounds_still_deletes_it_first() -> anyhow::Result<()> {
    let driver = counting(100)?;
    let input = driver.input::<String, String>("in");
    input.pipe("a".into(), "x".into(), 10)?;
    input.pipe("a".into(), "x".into(), 20)?;
    input.pipe("a".into(), "x".into(), 15)?; // merged session is [10, 20] again
    input.pipe("a".into(), "x".into(), 50)?;
    input.pipe("a".into(), "x".into(), 50)?; // merged session is exactly [ts, ts]: no tombstone
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("a", 10, 10), Some(1), 10),
        (w("a", 10, 10), None, 10),
        (w("a", 10, 20), Some(2), 20),
        (w("a", 10, 20), None, 20),
        (w("a", 10, 20), Some(3), 20),
        (w("a", 50, 50), Some(1), 50),
        (w("a", 50, 50), Some(2), 50),
    ];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn a_merged_session_is_late_only_when_it_ends_before_stream_time_minus_grace_minus_gap() -> anyhow::Result<()> {
    let driver = counting(5)?;
    let input = driver.input::<String, String>("in");
    input.pipe("b".into(), "x".into(), 100)?; // st 100: sessions ending before 85 are closed
    input.pipe("a".into(), "x".into(), 85)?; // [85, 85] ends exactly at 100 - 5 - 10: kept
    input.pipe("a".into(), "x".into(), 84)?; // merges [85, 85] into [84, 85]: not late
    input.pipe("c".into(), "x".into(), 84)?; // [84, 84] alone: late
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("b", 100, 100), Some(1), 100),
        (w("a", 85, 85), Some(1), 85),
        (w("a", 85, 85), None, 85),
        (w("a", 84, 85), Some(2), 85),
    ];
    assert_eq!(out, expected);
    assert_eq!(driver.metric("dropped-records.late"), 1);
    Ok(())
}

/// D1: a session ending exactly at `st - gap - grace` is still merged, even after another
/// key advanced stream time; Kafka Streams misses it and then overwrites its aggregate.
#[test]
fn d1_a_session_at_the_close_boundary_is_merged_not_overwritten() -> anyhow::Result<()> {
    let driver = counting(0)?;
    let input = driver.input::<String, String>("in");
    input.pipe("a".into(), "x".into(), 0)?;
    input.pipe("b".into(), "x".into(), 10)?; // st 10: [0, 0] ends at 10 - 10 - 0, not closed
    input.pipe("a".into(), "x".into(), 0)?;
    input.pipe("a".into(), "x".into(), 2)?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("a", 0, 0), Some(1), 0),
        (w("b", 10, 10), Some(1), 10),
        (w("a", 0, 0), Some(2), 0),
        (w("a", 0, 0), None, 0),
        (w("a", 0, 2), Some(3), 2),
    ];
    assert_eq!(out, expected);
    assert_eq!(driver.metric("dropped-records"), 0);
    Ok(())
}

#[test]
fn null_keys_are_skipped_and_null_values_aggregated() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let sessions = SessionWindows::with_inactivity_gap(ms(10));
    let grouped = builder.stream::<Option<String>, Option<i64>>("in").group_by_key();
    let windowed = grouped.windowed_by(sessions);
    windowed.count().to_stream().to("count");
    windowed.aggregate(|| 0i64, |_, v: Option<i64>, n| n + v.unwrap_or(100), |_, a, b| a + b).to_stream().to("sum");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<Option<String>, Option<i64>>("in");
    input.pipe(None, Some(1), 1000)?;
    input.pipe(Some("a".into()), None, 5)?;
    input.pipe(Some("a".into()), Some(1), 5)?;
    let a = |s, e| Windowed::new(Some("a".to_string()), s, e);
    let count: Out<Option<String>, i64> = driver.output("count").read_with_timestamps();
    assert_eq!(count, vec![(a(5, 5), Some(1), 5), (a(5, 5), Some(2), 5)]);
    let sum: Out<Option<String>, i64> = driver.output("sum").read_with_timestamps();
    assert_eq!(sum, vec![(a(5, 5), Some(100), 5), (a(5, 5), Some(101), 5)]);
    assert_eq!(driver.metric("dropped-records.null-key"), 2);
    Ok(())
}

#[test]
fn merger_combines_sessions_in_end_order_starting_from_init() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let sessions = SessionWindows::with_inactivity_gap(ms(10)).grace(ms(100));
    let grouped = builder.stream::<String, String>("in").group_by_key();
    let merged = grouped.windowed_by(sessions).aggregate(
        || "i".to_string(),
        |_, v, agg| format!("{agg}{v}"),
        |_, a, b| format!("({a}|{b})"),
    );
    merged.to_stream().filter(|_, v| v.is_some()).to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, String>("in");
    input.pipe("k".into(), "x".into(), 20)?;
    input.pipe("k".into(), "y".into(), 0)?;
    input.pipe("k".into(), "z".into(), 10)?;
    let out: Out<String, String> = driver.output("out").read_with_timestamps();
    let s = |v: &str| Some(v.to_string());
    let expected =
        vec![(w("k", 20, 20), s("ix"), 20), (w("k", 0, 0), s("iy"), 0), (w("k", 0, 20), s("((i|iy)|ix)z"), 20)];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn reduce_merges_with_the_reducer_and_the_store_holds_the_sessions() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let sessions = SessionWindows::with_inactivity_gap(ms(10)).grace(ms(20));
    let grouped = builder.stream::<String, String>("in").group_by_key();
    grouped.windowed_by(sessions).reduce_with(|a, b| format!("{a}{b}"), Materialized::named("seen"));
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, String>("in");
    input.pipe("k".into(), "a".into(), 0)?;
    input.pipe("k".into(), "b".into(), 20)?;
    input.pipe("k".into(), "c".into(), 10)?;
    let stored = driver.session_store::<String, String>("seen", &"k".to_string())?;
    assert_eq!(stored, vec![(Window::new(0, 20), "abc".to_string())]);
    // Retention gap + grace (30): at stream time 50 the session ending at 20 is still held,
    // at 51 it is gone.
    input.pipe("j".into(), "d".into(), 50)?;
    let stored = driver.session_store::<String, String>("seen", &"k".to_string())?;
    assert_eq!(stored, vec![(Window::new(0, 20), "abc".to_string())]);
    input.pipe("j".into(), "e".into(), 51)?;
    assert_eq!(driver.session_store::<String, String>("seen", &"k".to_string())?, vec![]);
    Ok(())
}

#[test]
fn zero_gap_and_short_retention_fail_the_build() {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("in").group_by_key();
    grouped.windowed_by(SessionWindows::with_inactivity_gap(Duration::ZERO)).count();
    assert!(matches!(
        builder.build(),
        Err(TopologyError::InvalidWindow { reason, .. }) if reason == "inactivity gap must be positive"
    ));
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("in").group_by_key();
    let sessions = SessionWindows::with_inactivity_gap(ms(10)).grace(ms(5));
    grouped.windowed_by(sessions).count_with(Materialized::named("s").with_retention(ms(14)));
    assert!(matches!(builder.build(), Err(TopologyError::InvalidWindow { operator, .. }) if operator == "s"));
}
