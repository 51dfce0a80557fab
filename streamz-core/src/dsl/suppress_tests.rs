//! `suppress(until_window_closes)` on windowed tables built from a topic of windowed keys
//! (rule 6 and D3), with the window close rule set by hand.

use super::{BufferConfig, Suppressed};
use crate::dsl::WindowClose;
use crate::prelude::*;
use crate::testing::TestInputTopic;

type Key = Windowed<String>;

fn w(key: &str, start: i64, end: i64) -> Key {
    Windowed::new(key.to_string(), start, end)
}

/// A driver of `windowed-table → suppress(until_window_closes) → out`.
fn driver(close: WindowClose) -> crate::Result<(TopologyTestDriver, TestInputTopic<Key, Option<i64>>)> {
    let builder = StreamsBuilder::new();
    let mut table = builder.table::<Key, i64>("windows");
    table.window = Some(close);
    table.suppress(Suppressed::until_window_closes(BufferConfig::unbounded())).to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<Key, Option<i64>>("windows");
    Ok((driver, input))
}

fn read(driver: &TopologyTestDriver) -> Vec<(Key, Option<i64>, i64)> {
    driver.output::<Key, Option<i64>>("out").read_with_timestamps()
}

#[test]
fn time_windows_emit_once_when_end_is_at_most_stream_time_minus_grace() -> crate::Result<()> {
    let (driver, input) = driver(WindowClose::Time { grace_ms: 5 })?;
    input.pipe(w("b", 0, 10), Some(1), 8)?;
    input.pipe(w("a", 0, 10), Some(1), 3)?;
    input.pipe(w("a", 0, 10), Some(2), 7)?;
    input.pipe(w("a", 10, 20), Some(1), 14)?; // st 14: 10 <= 9 is false
    assert_eq!(read(&driver), vec![]);
    input.pipe(w("a", 10, 20), Some(2), 15)?; // st 15: 10 <= 10 closes [0, 10)
                                              // By key bytes; each with the aggregate's own timestamp, not the window end.
    assert_eq!(read(&driver), vec![(w("a", 0, 10), Some(2), 7), (w("b", 0, 10), Some(1), 8)]);
    input.pipe(w("a", 10, 20), Some(3), 24)?;
    assert_eq!(read(&driver), vec![]);
    input.pipe(w("c", 20, 30), Some(1), 25)?;
    assert_eq!(read(&driver), vec![(w("a", 10, 20), Some(3), 24)]);
    Ok(())
}

#[test]
fn sliding_windows_close_only_when_end_is_before_stream_time_minus_grace() -> crate::Result<()> {
    let (driver, input) = driver(WindowClose::Sliding { grace_ms: 5 })?;
    input.pipe(w("a", 0, 10), Some(1), 10)?;
    input.pipe(w("b", 5, 15), Some(1), 15)?; // st 15: 10 < 10 is false (D3)
    assert_eq!(read(&driver), vec![]);
    input.pipe(w("b", 6, 16), Some(1), 16)?; // st 16: 10 < 11
    assert_eq!(read(&driver), vec![(w("a", 0, 10), Some(1), 10)]);
    Ok(())
}

#[test]
fn sessions_close_when_end_is_before_stream_time_minus_gap_and_grace() -> crate::Result<()> {
    let (driver, input) = driver(WindowClose::Session { gap_ms: 3, grace_ms: 2 })?;
    input.pipe(w("b", 0, 10), Some(1), 10)?;
    input.pipe(w("a", 5, 10), Some(1), 10)?;
    input.pipe(w("c", 15, 15), Some(1), 15)?; // st 15: 10 < 10 is false
    assert_eq!(read(&driver), vec![]);
    input.pipe(w("c", 15, 16), Some(2), 16)?; // st 16: 10 < 11
                                              // Same end: by key bytes first ("a" starts later but sorts first), then start.
    assert_eq!(read(&driver), vec![(w("a", 5, 10), Some(1), 10), (w("b", 0, 10), Some(1), 10)]);
    Ok(())
}

#[test]
fn windows_closing_together_are_ordered_by_key_then_start() -> crate::Result<()> {
    let (driver, input) = driver(WindowClose::Session { gap_ms: 0, grace_ms: 0 })?;
    input.pipe(w("a", 4, 10), Some(1), 10)?;
    input.pipe(w("a", 2, 10), Some(2), 10)?;
    input.pipe(w("b", 1, 10), Some(3), 10)?;
    input.pipe(w("z", 11, 11), Some(4), 11)?;
    let out = read(&driver);
    assert_eq!(out, vec![(w("a", 2, 10), Some(2), 10), (w("a", 4, 10), Some(1), 10), (w("b", 1, 10), Some(3), 10)]);
    Ok(())
}

#[test]
fn deleted_windows_are_dropped_and_tombstones_not_emitted() -> crate::Result<()> {
    let (driver, input) = driver(WindowClose::Session { gap_ms: 3, grace_ms: 0 })?;
    input.pipe(w("a", 0, 0), Some(1), 0)?;
    // A record at 3 merges [0, 0] into [0, 3]: the old session is deleted.
    input.pipe(w("a", 0, 0), None, 0)?;
    input.pipe(w("a", 0, 3), Some(2), 3)?;
    input.pipe(w("x", 50, 50), None, 50)?; // a delete of a window never buffered
    assert_eq!(read(&driver), vec![(w("a", 0, 3), Some(2), 3)]);
    input.pipe(w("y", 60, 60), Some(1), 60)?;
    assert_eq!(read(&driver), vec![]);
    Ok(())
}

#[test]
fn windowed_tables_keep_their_close_rule_through_filter_and_map_values() -> crate::Result<()> {
    let builder = StreamsBuilder::new();
    let mut table = builder.table::<Key, i64>("windows");
    table.window = Some(WindowClose::Time { grace_ms: 0 });
    table
        .filter(|_, v| *v > 0)
        .map_values(|v| v * 10)
        .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<Key, Option<i64>>("windows");
    input.pipe(w("a", 0, 10), Some(1), 1)?;
    input.pipe(w("b", 0, 10), Some(-1), 2)?; // filtered: a delete, not emitted
    input.pipe(w("a", 10, 20), Some(1), 10)?;
    assert_eq!(read(&driver), vec![(w("a", 0, 10), Some(10), 1)]);
    Ok(())
}

#[test]
fn a_full_strict_buffer_fails_the_application() -> crate::Result<()> {
    let builder = StreamsBuilder::new();
    let mut table = builder.table::<Key, i64>("windows");
    table.window = Some(WindowClose::Time { grace_ms: 0 });
    let buffer = BufferConfig::max_records(1).shut_down_when_full();
    table.suppress(Suppressed::until_window_closes(buffer).with_name("final")).to_stream().to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<Key, Option<i64>>("windows");
    input.pipe(w("a", 0, 10), Some(1), 1)?;
    let err = input.pipe(w("b", 0, 10), Some(1), 2).unwrap_err();
    assert!(err.to_string().contains("processor `final`"), "{err}");
    assert!(err.to_string().contains("2 records (limit 1)"), "{err}");
    Ok(())
}
