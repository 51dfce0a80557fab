//! Hopping window aggregations: rules 1, 2, 5, 7 and 11 of KAFKA_STREAMS_SEMANTICS.md.

use std::time::Duration;

use streamz::prelude::*;

type Out<A> = Vec<(Windowed<String>, Option<A>, i64)>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn w(start: i64, end: i64) -> Windowed<String> {
    Windowed::new("k".to_string(), start, end)
}

/// `in` summed in windows of 10 ms advancing by 5 ms (grace `grace`), to `out`.
fn summing(grace: u64) -> anyhow::Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::hopping(ms(10), ms(5)).grace(ms(grace));
    let grouped = builder.stream::<String, i64>("in").group_by_key();
    grouped.windowed_by(windows).aggregate(|| 0i64, |_, v, sum| sum + v).to_stream().to("out");
    Ok(TopologyTestDriver::new(builder.build()?)?)
}

#[test]
fn a_record_updates_every_window_holding_it_by_ascending_start() -> anyhow::Result<()> {
    let driver = summing(100)?;
    let input = driver.input::<String, i64>("in");
    input.pipe("k".into(), 1, 3)?; // only [0, 10): no negative starts
    input.pipe("k".into(), 10, 12)?; // [5, 15) and [10, 20)
    input.pipe("k".into(), 100, 10)?; // [5, 15) and [10, 20); 10 is the start of one, the end of another
    input.pipe("k".into(), 1000, 9)?; // [0, 10) and [5, 15)
    let out: Out<i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w(0, 10), Some(1), 3),
        (w(5, 15), Some(10), 12),
        (w(10, 20), Some(10), 12),
        (w(5, 15), Some(110), 12),
        (w(10, 20), Some(110), 12),
        (w(0, 10), Some(1001), 9),
        (w(5, 15), Some(1110), 12),
    ];
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn a_late_record_lands_in_its_open_windows_only() -> anyhow::Result<()> {
    let driver = summing(3)?;
    let input = driver.input::<String, i64>("in");
    input.pipe("k".into(), 1, 18)?; // st 18, close 15
    input.pipe("k".into(), 10, 14)?; // [5, 15) closed (15 <= 15); [10, 20) open
    input.pipe("k".into(), 100, 9)?; // [0, 10) and [5, 15) both closed: dropped twice
    let out: Out<i64> = driver.output("out").read_with_timestamps();
    let expected = vec![(w(10, 20), Some(1), 18), (w(15, 25), Some(1), 18), (w(10, 20), Some(11), 18)];
    assert_eq!(out, expected);
    assert_eq!(driver.metric("dropped-records.late"), 3);
    Ok(())
}

#[test]
fn grace_boundary_is_exact() -> anyhow::Result<()> {
    let driver = summing(5)?;
    let input = driver.input::<String, i64>("in");
    input.pipe("k".into(), 1, 19)?; // st 19, close 14: [5, 15) still open
    input.pipe("k".into(), 2, 10)?;
    input.pipe("k".into(), 4, 20)?; // st 20, close 15: [5, 15) closes
    input.pipe("k".into(), 8, 11)?;
    let out: Out<i64> = driver.output("out").read_with_timestamps();
    let expected = vec![
        (w(10, 20), Some(1), 19),
        (w(15, 25), Some(1), 19),
        (w(5, 15), Some(2), 10),
        (w(10, 20), Some(3), 19),
        (w(15, 25), Some(5), 20),
        (w(20, 30), Some(4), 20),
        (w(10, 20), Some(11), 19),
    ];
    assert_eq!(out, expected);
    assert_eq!(driver.metric("dropped-records.late"), 1);
    Ok(())
}

#[test]
fn every_open_window_stays_in_the_store_with_the_default_retention() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::hopping(ms(10), ms(5)).grace(ms(5));
    let grouped = builder.stream::<String, i64>("in").group_by_key();
    grouped.windowed_by(windows).count_with(Materialized::named("counts"));
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, i64>("in");
    input.pipe("k".into(), 0, 6)?; // [0, 10), [5, 15)
    input.pipe("j".into(), 0, 20)?; // st 20, close 15: [5, 15) is closed, [10, 20) would be open
    input.pipe("k".into(), 0, 12)?; // [5, 15) closed; [10, 20) open
    let stored = driver.window_store::<String, i64>("counts", Timestamp(0), Timestamp(100))?;
    let entry = |k: &str, s: i64, c: i64| (k.to_string(), Timestamp(s), c);
    // Retention size + grace = 15 over the largest start put (20): starts > 5 are kept.
    assert_eq!(stored, vec![entry("j", 15, 1), entry("j", 20, 1), entry("k", 10, 1)]);
    assert_eq!(driver.metric("dropped-records.late"), 1);
    Ok(())
}
