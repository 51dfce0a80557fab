//! `Table::suppress`: `until_time_limit`, buffer limits, and misuse of `until_window_closes`.
//! (Final results of windowed aggregations, rule 6 and D3, are tested through real windowed
//! aggregations in `table_suppress_windows.rs`, and on hand-made windowed tables in
//! `streamz-core/src/dsl/suppress_tests.rs`.)

use std::time::Duration;

use streamz::prelude::*;

fn s(k: &str) -> String {
    k.to_string()
}

fn limited(limit_ms: u64, buffer: BufferConfig) -> anyhow::Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("in")
        .suppress(Suppressed::until_time_limit(Duration::from_millis(limit_ms), buffer))
        .to_stream()
        .to("out");
    Ok(TopologyTestDriver::new(builder.build()?)?)
}

type Out = Vec<(String, Option<i64>, i64)>;

#[test]
fn time_limit_counts_from_the_first_buffered_update() -> anyhow::Result<()> {
    let driver = limited(10, BufferConfig::unbounded())?;
    let input = driver.input::<String, Option<i64>>("in");
    let out = driver.output::<String, Option<i64>>("out");
    input.pipe(s("a"), Some(1), 0)?;
    input.pipe(s("b"), Some(1), 3)?;
    input.pipe(s("a"), Some(2), 5)?; // does not reset a's wait
    input.pipe(s("a"), Some(3), 9)?;
    assert_eq!(out.read_with_timestamps(), Out::new());
    input.pipe(s("c"), Some(1), 10)?; // st 10: a (first at 0) is due, with its latest update
    assert_eq!(out.read_with_timestamps(), vec![(s("a"), Some(3), 9)]);
    input.pipe(s("a"), Some(4), 12)?; // a is buffered anew, due at 22
    input.pipe(s("c"), Some(2), 13)?; // b is due
    assert_eq!(out.read_with_timestamps(), vec![(s("b"), Some(1), 3)]);
    input.pipe(s("d"), Some(1), 22)?; // c (first at 10) then a (first at 12)
    assert_eq!(out.read_with_timestamps(), vec![(s("c"), Some(2), 13), (s("a"), Some(4), 12)]);
    Ok(())
}

#[test]
fn time_limit_emits_deletes() -> anyhow::Result<()> {
    let driver = limited(5, BufferConfig::unbounded())?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(1), 0)?;
    input.pipe(s("a"), None, 1)?;
    input.pipe(s("b"), Some(1), 5)?;
    let out = driver.output::<String, Option<i64>>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("a"), None, 1)]);
    Ok(())
}

#[test]
fn keys_due_together_are_emitted_by_key_bytes() -> anyhow::Result<()> {
    let driver = limited(0, BufferConfig::unbounded())?;
    let input = driver.input::<String, Option<i64>>("in");
    for (k, ts) in [("b", 0), ("a", 0)] {
        input.pipe(s(k), Some(1), ts)?;
    }
    // With no limit each update is due at once, in arrival order.
    assert_eq!(
        driver.output::<String, Option<i64>>("out").read_key_values(),
        vec![(s("b"), Some(1)), (s("a"), Some(1))]
    );
    let driver = limited(1, BufferConfig::unbounded())?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("b"), Some(1), 0)?;
    input.pipe(s("a"), Some(1), 0)?;
    input.pipe(s("c"), Some(1), 1)?;
    assert_eq!(
        driver.output::<String, Option<i64>>("out").read_key_values(),
        vec![(s("a"), Some(1)), (s("b"), Some(1))]
    );
    Ok(())
}

/// The suppress operator's stream time is the largest timestamp of the records reaching it,
/// not the task's.
#[test]
fn stream_time_is_the_operators_own() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("in")
        .filter(|_, v| *v >= 0)
        .to_table()
        .suppress(Suppressed::until_time_limit(Duration::from_millis(10), BufferConfig::unbounded()))
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, i64>("in");
    input.pipe(s("a"), 1, 0)?;
    input.pipe(s("x"), -1, 100)?; // filtered out: the suppress operator never sees time 100
    input.pipe(s("b"), 1, 5)?;
    let out = driver.output::<String, Option<i64>>("out");
    assert_eq!(out.read_with_timestamps(), Out::new());
    input.pipe(s("b"), 2, 10)?;
    assert_eq!(out.read_with_timestamps(), vec![(s("a"), Some(1), 0)]);
    Ok(())
}

/// The update emitted replaces the value from before the first buffered update: downstream
/// aggregations subtract that value.
#[test]
fn emitted_updates_carry_the_value_before_the_buffered_ones() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("in")
        .suppress(Suppressed::until_time_limit(Duration::from_millis(10), BufferConfig::unbounded()))
        .group_by(|k, g| (g.clone(), k.clone()))
        .count()
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<String>>("in");
    input.pipe(s("a"), Some(s("g1")), 0)?;
    input.pipe(s("z"), None, 10)?; // emits a → g1
    input.pipe(s("a"), Some(s("g2")), 11)?;
    input.pipe(s("a"), Some(s("g3")), 12)?;
    input.pipe(s("z"), None, 21)?; // emits a: g1 → g3 (g2 was never seen downstream)
    let out = driver.output::<String, Option<i64>>("out").read_key_values();
    assert_eq!(out, vec![(s("g1"), Some(1)), (s("g1"), Some(0)), (s("g3"), Some(1))]);
    Ok(())
}

#[test]
fn a_full_buffer_emits_the_oldest_early() -> anyhow::Result<()> {
    let driver = limited(100, BufferConfig::max_records(2))?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(1), 0)?;
    input.pipe(s("b"), Some(1), 1)?;
    input.pipe(s("a"), Some(2), 2)?; // still two keys
    let out = driver.output::<String, Option<i64>>("out");
    assert_eq!(out.read_with_timestamps(), Out::new());
    input.pipe(s("c"), Some(1), 3)?; // three keys: a (the oldest) goes early
    assert_eq!(out.read_with_timestamps(), vec![(s("a"), Some(2), 2)]);
    Ok(())
}

#[test]
fn a_byte_limit_counts_keys_and_values() -> anyhow::Result<()> {
    // Each entry: 1 key byte + 8 value bytes + 8 for its timestamp = 17 bytes.
    let driver = limited(100, BufferConfig::max_bytes(40))?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(1), 0)?;
    input.pipe(s("b"), Some(1), 1)?;
    input.pipe(s("b"), Some(2), 2)?; // replaces b's entry: still 34 bytes
    let out = driver.output::<String, Option<i64>>("out");
    assert_eq!(out.read_with_timestamps(), Out::new());
    input.pipe(s("c"), Some(1), 3)?; // 51 bytes: a goes early, 34 bytes are left
    assert_eq!(out.read_with_timestamps(), vec![(s("a"), Some(1), 0)]);
    Ok(())
}

#[test]
fn a_full_buffer_can_shut_down() -> anyhow::Result<()> {
    let driver = limited(100, BufferConfig::max_records(1).shut_down_when_full())?;
    let input = driver.input::<String, Option<i64>>("in");
    input.pipe(s("a"), Some(1), 0)?;
    let err = input.pipe(s("b"), Some(1), 1).unwrap_err();
    assert!(err.to_string().contains("suppress buffer is full: 2 records (limit 1)"), "{err}");
    Ok(())
}

#[test]
fn until_window_closes_needs_a_windowed_table() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<Windowed<String>, i64>("in")
        .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
        .to_stream()
        .to("out");
    let err = builder.build().unwrap_err();
    assert!(
        matches!(&err, TopologyError::Invalid { reason, .. } if reason.contains("needs a windowed table")),
        "{err}"
    );
    Ok(())
}

#[test]
fn until_window_closes_refuses_a_buffer_that_emits_early() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<Windowed<String>, i64>("in")
        .suppress(Suppressed::until_window_closes(BufferConfig::max_records(10)).with_name("final"));
    let err = builder.build().unwrap_err();
    assert!(
        matches!(&err, TopologyError::Invalid { operator, reason } if operator == "final" && reason.contains("must not emit early")),
        "{err}"
    );
    Ok(())
}
