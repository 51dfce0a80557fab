//! `suppress(until_window_closes)` on real windowed aggregations: rule 6 and D3 of
//! KAFKA_STREAMS_SEMANTICS.md, for tumbling, hopping, sliding and session windows, with late
//! records and over several partitions; and random inputs checked against a model of the
//! suppress operator fed with the aggregation's own updates.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proptest::prelude::*;
use streamz::prelude::*;

type Out = Vec<(Windowed<String>, Option<i64>, i64)>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn w(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(key.to_string(), start, end)
}

/// `in` grouped by key and counted by `count`; every update goes to `all`, the final results
/// (`until_window_closes`, unbounded buffer) to `final`.
fn counting(
    count: impl FnOnce(GroupedStream<String, String>) -> Table<Windowed<String>, i64>,
) -> anyhow::Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    let counts = count(builder.stream::<String, String>("in").group_by_key());
    counts.to_stream().to("all");
    counts.suppress(Suppressed::until_window_closes(BufferConfig::unbounded())).to_stream().to("final");
    Ok(TopologyTestDriver::new(builder.build()?)?)
}

/// Pipes `(key, ts)` records into `in`.
fn pipe(driver: &TopologyTestDriver, records: &[(&str, i64)]) -> anyhow::Result<()> {
    let input = driver.input::<String, String>("in");
    for (key, ts) in records {
        input.pipe(key.to_string(), "x".into(), *ts)?;
    }
    Ok(())
}

fn read(driver: &TopologyTestDriver, topic: &str) -> Out {
    driver.output::<Windowed<String>, Option<i64>>(topic).read_with_timestamps()
}

#[test]
fn tumbling_windows_emit_one_final_count_when_end_reaches_stream_time_minus_grace() -> anyhow::Result<()> {
    let driver = counting(|g| g.windowed_by(TimeWindows::tumbling(ms(10)).grace(ms(5))).count())?;
    // b arrives first, but a sorts first; a@6 is late but within grace.
    pipe(&driver, &[("b", 1), ("a", 3), ("a", 7), ("a", 14), ("a", 6)])?;
    assert_eq!(read(&driver, "all").last(), Some(&(w("a", 0, 10), Some(3), 7)));
    assert_eq!(read(&driver, "final"), Out::new(), "st 14: [0, 10) is open until 10 <= st - 5");
    pipe(&driver, &[("b", 15)])?;
    // Each result carries its aggregate's timestamp (the largest record's), not the window end.
    assert_eq!(read(&driver, "final"), vec![(w("a", 0, 10), Some(3), 7), (w("b", 0, 10), Some(1), 1)]);
    pipe(&driver, &[("b", 16), ("c", 24)])?;
    assert_eq!(read(&driver, "final"), Out::new());
    pipe(&driver, &[("c", 25)])?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 10, 20), Some(1), 14), (w("b", 10, 20), Some(2), 16)]);
    Ok(())
}

#[test]
fn hopping_windows_emit_each_window_once_with_its_partially_late_updates() -> anyhow::Result<()> {
    let hopping = TimeWindows::hopping(ms(10), ms(5)).grace(ms(2));
    let driver = counting(|g| g.windowed_by(hopping).count())?;
    pipe(&driver, &[("a", 3), ("a", 7), ("b", 9), ("a", 11)])?;
    assert_eq!(read(&driver, "final"), Out::new(), "st 11: [0, 10) is open until 10 <= st - 2");
    pipe(&driver, &[("b", 12)])?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 0, 10), Some(2), 7), (w("b", 0, 10), Some(1), 9)]);
    // a@6: too late for [0, 10) (dropped there), in time for [5, 15).
    pipe(&driver, &[("a", 6)])?;
    assert_eq!(read(&driver, "all").last(), Some(&(w("a", 5, 15), Some(3), 11)));
    assert_eq!(driver.metric("dropped-records.late"), 1);
    pipe(&driver, &[("c", 16)])?;
    assert_eq!(read(&driver, "final"), Out::new());
    pipe(&driver, &[("c", 17)])?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 5, 15), Some(3), 11), (w("b", 5, 15), Some(2), 12)]);
    Ok(())
}

/// D3: a sliding window closes when `end < st - grace`, not at `end == st - grace`, where the
/// aggregation may still update it.
#[test]
fn sliding_windows_emit_once_after_end_is_before_stream_time_minus_grace() -> anyhow::Result<()> {
    let sliding = SlidingWindows::with_difference_and_grace(ms(10), ms(5));
    let driver = counting(|g| g.windowed_by(sliding).count())?;
    pipe(&driver, &[("a", 10), ("a", 15)])?;
    assert_eq!(
        read(&driver, "all"),
        vec![(w("a", 0, 10), Some(1), 10), (w("a", 11, 21), Some(1), 15), (w("a", 5, 15), Some(2), 15)]
    );
    // st 15 = [0, 10]'s end + grace: the window still takes a@3.
    pipe(&driver, &[("a", 3)])?;
    assert_eq!(read(&driver, "all"), vec![(w("a", 4, 14), Some(1), 10), (w("a", 0, 10), Some(2), 10)]);
    assert_eq!(read(&driver, "final"), Out::new());
    pipe(&driver, &[("b", 16)])?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 0, 10), Some(2), 10)]);
    pipe(&driver, &[("c", 19)])?;
    assert_eq!(read(&driver, "final"), Out::new(), "st 19: [4, 14] is open until 14 < st - 5");
    pipe(&driver, &[("d", 20)])?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 4, 14), Some(1), 10)]);
    pipe(&driver, &[("e", 21)])?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 5, 15), Some(2), 15)]);
    pipe(&driver, &[("z", 50)])?;
    let expected = vec![
        (w("b", 6, 16), Some(1), 16),
        (w("c", 9, 19), Some(1), 19),
        (w("d", 10, 20), Some(1), 20),
        (w("a", 11, 21), Some(1), 15),
        (w("e", 11, 21), Some(1), 21),
    ];
    assert_eq!(read(&driver, "final"), expected);
    Ok(())
}

/// D3: a session closes when `end < st - gap - grace`; merged-away sessions (deleted with a
/// tombstone) are neither emitted nor left in the buffer.
#[test]
fn sessions_emit_only_the_merged_session_after_end_is_before_stream_time_minus_gap_and_grace() -> anyhow::Result<()> {
    let sessions = SessionWindows::with_inactivity_gap(ms(5)).grace(ms(10));
    let driver = counting(|g| g.windowed_by(sessions).count())?;
    // a@5 bridges [0, 0] and [10, 10]; b@2 lands inside [0, 4] (same bounds, deleted and put).
    pipe(&driver, &[("a", 0), ("b", 0), ("b", 4), ("a", 10), ("a", 5), ("b", 2)])?;
    let all = read(&driver, "all");
    assert!(all.contains(&(w("a", 0, 0), None, 0)) && all.contains(&(w("a", 10, 10), None, 10)), "{all:?}");
    assert!(all.contains(&(w("b", 0, 4), None, 4)), "{all:?}");
    // [0, 4] closes when 4 < st - 15.
    pipe(&driver, &[("c", 19)])?;
    assert_eq!(read(&driver, "final"), Out::new());
    pipe(&driver, &[("c", 20)])?;
    assert_eq!(read(&driver, "final"), vec![(w("b", 0, 4), Some(3), 4)]);
    pipe(&driver, &[("c", 25)])?;
    assert_eq!(read(&driver, "final"), Out::new());
    pipe(&driver, &[("d", 26)])?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 0, 10), Some(3), 10)]);
    // The sessions of c and d merge into later ones before they close; only those are emitted.
    pipe(&driver, &[("c", 29), ("d", 29), ("z", 44)])?;
    assert_eq!(read(&driver, "final"), Out::new());
    pipe(&driver, &[("z", 45)])?;
    assert_eq!(read(&driver, "final"), vec![(w("c", 19, 29), Some(4), 29), (w("d", 26, 29), Some(2), 29)]);
    Ok(())
}

/// A merged-away session leaves the buffer: a strict buffer of one record holds a key whose
/// session keeps merging.
#[test]
fn merged_away_sessions_do_not_stay_in_the_buffer() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let sessions = SessionWindows::with_inactivity_gap(ms(5));
    let counts = builder.stream::<String, String>("in").group_by_key().windowed_by(sessions).count();
    let buffer = BufferConfig::max_records(1).shut_down_when_full();
    counts.suppress(Suppressed::until_window_closes(buffer)).to_stream().to("final");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    pipe(&driver, &[("a", 0), ("a", 3), ("a", 6), ("a", 8)])?;
    assert_eq!(read(&driver, "final"), Out::new());
    let err = pipe(&driver, &[("b", 9)]).unwrap_err();
    assert!(err.to_string().contains("2 records (limit 1)"), "{err}");
    Ok(())
}

#[test]
fn a_record_dropped_as_late_does_not_change_an_emitted_result() -> anyhow::Result<()> {
    let driver = counting(|g| g.windowed_by(TimeWindows::tumbling(ms(10)).grace(ms(5))).count())?;
    pipe(&driver, &[("a", 2), ("a", 15)])?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 0, 10), Some(1), 2)]);
    read(&driver, "all");
    pipe(&driver, &[("a", 9), ("b", 9)])?; // [0, 10) closed for the aggregation too
    assert_eq!(driver.metric("dropped-records.late"), 2);
    assert_eq!(read(&driver, "all"), Out::new());
    pipe(&driver, &[("a", 100)])?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 10, 20), Some(1), 15)]);
    Ok(())
}

/// The suppress operator's stream time is that of the aggregation's outputs, not the task's:
/// a record filtered out before the aggregation closes nothing.
#[test]
fn windows_close_in_the_stream_time_of_the_updates_reaching_suppress() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("in").filter(|_, v| v != "skip").group_by_key();
    let counts = grouped.windowed_by(TimeWindows::tumbling(ms(10))).count();
    counts.suppress(Suppressed::until_window_closes(BufferConfig::unbounded())).to_stream().to("final");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, String>("in");
    input.pipe("a".into(), "x".into(), 1)?;
    input.pipe("b".into(), "skip".into(), 50)?;
    assert_eq!(read(&driver, "final"), Out::new());
    input.pipe("b".into(), "x".into(), 10)?;
    assert_eq!(read(&driver, "final"), vec![(w("a", 0, 10), Some(1), 1)]);
    Ok(())
}

/// Each task's suppress operator has its own stream time: a window closes by the records of
/// its own partition of the repartition topic only.
#[test]
fn final_results_over_several_partitions_after_select_key() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let by_page = builder.stream::<String, String>("clicks").select_key(|_, page| page.clone());
    let counts = by_page.group_by_key().windowed_by(TimeWindows::tumbling(ms(10)).grace(ms(2))).count();
    counts.suppress(Suppressed::until_window_closes(BufferConfig::unbounded())).to_stream().to("final");
    let driver = TopologyTestDriver::with_config(builder.build()?, DriverConfig::default().partitions("clicks", 2))?;
    assert!(driver.plan().internal_topics.iter().any(|t| t.name.ends_with("-repartition") && t.partitions == 2));
    // "home" and "cart" land in different partitions of the repartition topic.
    assert_ne!(streamz::task::default_partition(b"home", 2), streamz::task::default_partition(b"cart", 2));
    let input = driver.input::<String, String>("clicks");
    let out = driver.output::<Windowed<String>, Option<i64>>("final");
    for (user, page, ts) in [("u1", "home", 1), ("u2", "cart", 3), ("u3", "home", 5), ("u4", "home", 11)] {
        input.pipe(user.into(), page.into(), ts)?;
    }
    assert_eq!(out.read_with_timestamps(), Out::new());
    input.pipe("u5".into(), "home".into(), 12)?; // closes home's [0, 10) only: cart's task is at 3
    assert_eq!(out.read_with_timestamps(), vec![(w("home", 0, 10), Some(2), 5)]);
    input.pipe("u6".into(), "cart".into(), 11)?;
    assert_eq!(out.read_with_timestamps(), Out::new());
    input.pipe("u7".into(), "cart".into(), 12)?;
    assert_eq!(out.read_with_timestamps(), vec![(w("cart", 0, 10), Some(1), 3)]);
    Ok(())
}

/// How a window closes: `end <= st - n` (time windows) or `end < st - n` (sliding: grace,
/// sessions: gap + grace).
#[derive(Clone, Copy, Debug)]
enum Close {
    AtMost(i64),
    Before(i64),
}

/// Replays the aggregation's updates through a model of the suppress operator, update by
/// update: after each, every closed window whose latest update is a value and that was not
/// emitted yet is due, ordered by (end, key, start). Also checks no update reaches a window
/// after its final result.
fn check_final_results(
    count: impl FnOnce(GroupedStream<String, String>) -> Table<Windowed<String>, i64>,
    close: Close,
    input: &[(u8, i64)],
) -> Result<(), TestCaseError> {
    let driver = counting(count).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut latest: BTreeMap<(i64, String, i64), Option<(i64, i64)>> = BTreeMap::new();
    let mut emitted = BTreeSet::new();
    let mut st = i64::MIN;
    for &(key, ts) in input {
        let key = ((b'a' + key) as char).to_string();
        pipe(&driver, &[(&key, ts)]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut expected = Out::new();
        for (k, v, t) in read(&driver, "all") {
            let id = (k.window.end.as_millis(), k.key.clone(), k.window.start.as_millis());
            prop_assert!(!emitted.contains(&id), "{:?} updated after its final result", k);
            st = st.max(t);
            latest.insert(id, v.map(|v| (v, t)));
            let due: Vec<_> = latest
                .iter()
                .filter(|((end, ..), v)| {
                    v.is_some()
                        && match close {
                            Close::AtMost(n) => *end <= st - n,
                            Close::Before(n) => *end < st - n,
                        }
                })
                .filter(|(id, _)| !emitted.contains(*id))
                .map(|(id, v)| (id.clone(), v.unwrap()))
                .collect();
            for ((end, key, start), (value, t)) in due {
                emitted.insert((end, key.clone(), start));
                expected.push((w(&key, start, end), Some(value), t));
            }
        }
        prop_assert_eq!(read(&driver, "final"), expected, "after {}@{}", key, ts);
    }
    Ok(())
}

fn records() -> impl Strategy<Value = Vec<(u8, i64)>> {
    proptest::collection::vec((0..3u8, 0..80i64), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hopping_and_tumbling_final_results_match_the_model(
        input in records(), size in 1..20u64, advance in 1..20u64, grace in 0..10u64,
    ) {
        let windows = TimeWindows::hopping(ms(size), ms(advance.min(size))).grace(ms(grace));
        check_final_results(|g| g.windowed_by(windows).count(), Close::AtMost(grace as i64), &input)?;
    }

    #[test]
    fn sliding_final_results_match_the_model(input in records(), d in 1..20u64, grace in 0..10u64) {
        let windows = SlidingWindows::with_difference_and_grace(ms(d), ms(grace));
        check_final_results(|g| g.windowed_by(windows).count(), Close::Before(grace as i64), &input)?;
    }

    #[test]
    fn session_final_results_match_the_model(input in records(), gap in 1..15u64, grace in 0..10u64) {
        let sessions = SessionWindows::with_inactivity_gap(ms(gap)).grace(ms(grace));
        check_final_results(|g| g.windowed_by(sessions).count(), Close::Before((gap + grace) as i64), &input)?;
    }
}
