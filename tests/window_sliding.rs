//! Sliding window aggregations: rules 3, 5, 7, 8 and 11 and differences D2 and D5 of
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

/// `in` counted in sliding windows with a difference of 10 ms and `grace`, to `out`.
fn counting(grace: u64) -> anyhow::Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    let windows = SlidingWindows::with_difference_and_grace(ms(10), ms(grace));
    builder.stream::<String, String>("in").group_by_key().windowed_by(windows).count().to_stream().to("out");
    Ok(TopologyTestDriver::new(builder.build()?)?)
}

fn pipe_all(driver: &TopologyTestDriver, records: &[(&str, i64)]) -> anyhow::Result<()> {
    let input = driver.input::<String, String>("in");
    for (key, ts) in records {
        input.pipe(key.to_string(), "x".into(), *ts)?;
    }
    Ok(())
}

#[test]
fn windows_exist_where_records_enter_or_leave_them() -> anyhow::Result<()> {
    let driver = counting(100)?;
    pipe_all(&driver, &[("k", 20), ("k", 25), ("k", 40)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    // 25 opens the right window of 20 and its own left window; 40 is too far for the right
    // window of 25 ([26, 36]).
    let expected = vec![
        (w("k", 10, 20), Some(1), 20),
        (w("k", 21, 31), Some(1), 25),
        (w("k", 15, 25), Some(2), 25),
        (w("k", 30, 40), Some(1), 40),
    ];
    assert_eq!(out, expected);

    // Out of order: 33 updates [30, 40], opens the right window of 25, its left window, and
    // its own right window holding 40 (carrying 40's timestamp).
    pipe_all(&driver, &[("k", 33)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("k", 30, 40), Some(2), 40),
        (w("k", 26, 36), Some(1), 33),
        (w("k", 23, 33), Some(2), 33),
        (w("k", 34, 44), Some(1), 40),
    ];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn records_before_the_difference_share_the_window_from_zero() -> anyhow::Result<()> {
    let driver = counting(100)?;
    pipe_all(&driver, &[("k", 3), ("k", 7)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    assert_eq!(out, vec![(w("k", 0, 10), Some(1), 3), (w("k", 4, 14), Some(1), 7), (w("k", 0, 10), Some(2), 7)]);
    pipe_all(&driver, &[("k", 5)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    assert_eq!(out, vec![(w("k", 4, 14), Some(2), 7), (w("k", 6, 16), Some(1), 7), (w("k", 0, 10), Some(3), 7)]);
    pipe_all(&driver, &[("k", 12)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("k", 6, 16), Some(2), 12),
        (w("k", 4, 14), Some(3), 12),
        (w("k", 8, 18), Some(1), 12),
        (w("k", 2, 12), Some(4), 12),
    ];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn late_records_are_dropped_at_the_exact_boundaries() -> anyhow::Result<()> {
    let driver = counting(5)?;
    // st 100, grace 5: windows ending at 95 or later are open.
    pipe_all(&driver, &[("k", 100), ("k", 95)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("k", 90, 100), Some(1), 100),
        (w("k", 90, 100), Some(2), 100),
        (w("k", 85, 95), Some(1), 95),
        (w("k", 96, 106), Some(1), 100),
    ];
    assert_eq!(out, expected);
    // 85 + 10 == 95: kept, but its left window [75, 85] is closed (one window dropped).
    pipe_all(&driver, &[("k", 85)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    assert_eq!(out, vec![(w("k", 85, 95), Some(2), 95), (w("k", 86, 96), Some(1), 95)]);
    assert_eq!(driver.metric("dropped-records.late"), 1);
    // 84 + 10 < 95: dropped whole.
    pipe_all(&driver, &[("k", 84)])?;
    assert!(driver.output::<Windowed<String>, Option<i64>>("out").read_records().is_empty());
    assert_eq!(driver.metric("dropped-records.late"), 2);
    Ok(())
}

#[test]
fn null_keys_and_null_values_are_skipped_without_advancing_stream_time() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let windows = SlidingWindows::with_difference_and_grace(ms(10), Duration::ZERO);
    let grouped = builder.stream::<Option<String>, Option<i64>>("in").group_by_key();
    grouped.windowed_by(windows).count().to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<Option<String>, Option<i64>>("in");
    input.pipe(None, Some(1), 1000)?;
    input.pipe(Some("k".into()), None, 1000)?;
    input.pipe(Some("k".into()), Some(1), 20)?;
    let out: Out<Option<String>, i64> = driver.output("out").read_with_timestamps();
    assert_eq!(out, vec![(Windowed::new(Some("k".to_string()), 10, 20), Some(1), 20)]);
    assert_eq!(driver.metric("dropped-records.null-key-or-value"), 2);
    assert_eq!(driver.metric("dropped-records"), 2);
    Ok(())
}

/// D5: when the key's previous record is at `ts - d - 1`, its right window is the record's
/// left window; streamz emits it once (Kafka Streams twice).
#[test]
fn d5_a_window_that_is_both_previous_right_and_own_left_is_emitted_once() -> anyhow::Result<()> {
    let driver = counting(100)?;
    pipe_all(&driver, &[("k", 15), ("k", 20), ("k", 31)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("k", 5, 15), Some(1), 15),
        (w("k", 16, 26), Some(1), 20),
        (w("k", 10, 20), Some(2), 20),
        (w("k", 21, 31), Some(1), 31),
    ];
    assert_eq!(out, expected);
    Ok(())
}

/// D2: another key's progress (here a right window starting at stream time) never hides a
/// window a record still needs; the record at 90 finds 89 and opens its right window.
#[test]
fn d2_windows_are_found_by_key_whatever_other_keys_do() -> anyhow::Result<()> {
    let driver = counting(0)?;
    pipe_all(&driver, &[("a", 89), ("b", 99), ("b", 100), ("a", 90)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("a", 79, 89), Some(1), 89),
        (w("b", 89, 99), Some(1), 99),
        (w("b", 100, 110), Some(1), 100),
        (w("b", 90, 100), Some(2), 100),
        (w("a", 90, 100), Some(1), 90),
    ];
    assert_eq!(out, expected);
    // The left window of 90 ([80, 90]) is closed at stream time 100.
    assert_eq!(driver.metric("dropped-records.late"), 1);
    Ok(())
}

/// A record whose windows are all closed still leaves its right window to later records:
/// 133 (kept: 133 + 5 >= 138) opens nothing, but 134 falls in `[134, 139]`, where 133 leaves
/// the windows. Kafka Streams forgets 133 and emits nothing for 134.
#[test]
fn a_record_with_only_closed_windows_still_bounds_the_next_ones() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let windows = SlidingWindows::with_difference_and_grace(ms(5), Duration::ZERO);
    builder.stream::<String, String>("in").group_by_key().windowed_by(windows).count().to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    pipe_all(&driver, &[("b", 138), ("a", 133), ("a", 134)])?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    assert_eq!(out, vec![(w("b", 133, 138), Some(1), 138), (w("a", 134, 139), Some(1), 134)]);
    // The left windows of 133 ([128, 133]) and 134 ([129, 134]) are closed.
    assert_eq!(driver.metric("dropped-records.late"), 2);
    Ok(())
}

#[test]
fn aggregate_carries_the_newest_timestamp_of_each_window() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let windows = SlidingWindows::with_difference_and_grace(ms(10), ms(100));
    let grouped = builder.stream::<String, i64>("in").group_by_key();
    grouped.windowed_by(windows).aggregate(|| 0i64, |_, v, sum| sum + v).to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, i64>("in");
    input.pipe("k".into(), 1, 30)?;
    input.pipe("k".into(), 10, 24)?;
    let out: Out<String, i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w("k", 20, 30), Some(1), 30),
        (w("k", 20, 30), Some(11), 30),
        (w("k", 14, 24), Some(10), 24),
        (w("k", 25, 35), Some(1), 30), // the right window of 24, holding 30
    ];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn zero_difference_and_short_retention_fail_the_build() {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("in").group_by_key();
    grouped.windowed_by(SlidingWindows::with_difference_and_grace(Duration::ZERO, ms(5))).count();
    assert!(matches!(
        builder.build(),
        Err(TopologyError::InvalidWindow { reason, .. }) if reason == "time difference must be positive"
    ));
    for (retention, ok) in [(24, false), (25, true)] {
        let builder = StreamsBuilder::new();
        let grouped = builder.stream::<String, String>("in").group_by_key();
        let windows = SlidingWindows::with_difference_and_grace(ms(10), ms(5));
        grouped.windowed_by(windows).count_with(Materialized::named("s").with_retention(ms(retention)));
        assert_eq!(builder.build().is_ok(), ok, "retention {retention}");
    }
}
