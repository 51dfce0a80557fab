//! Stream-stream joins: rules 11, 12, 13, 14 and deliberate difference D4.

use std::time::Duration;

use streamz::prelude::*;

type R = anyhow::Result<()>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn windows(before: u64, after: u64, grace: u64) -> JoinWindows {
    JoinWindows::of(ms(0)).before(ms(before)).after(ms(after)).grace(ms(grace))
}

/// `left.join(right)` (inner) on topics `l`/`r`, joiner `"{l}+{r}"`, to `out`.
fn inner(w: JoinWindows) -> anyhow::Result<TopologyTestDriver> {
    let b = StreamsBuilder::new();
    let (l, r) = (b.stream::<String, String>("l"), b.stream::<String, String>("r"));
    l.join(&r, |a, b| format!("{a}+{b}"), w).to("out");
    Ok(TopologyTestDriver::new(b.build()?)?)
}

/// `left.left_join(right)` with `None` shown as `-`.
fn left(w: JoinWindows) -> anyhow::Result<TopologyTestDriver> {
    let b = StreamsBuilder::new();
    let (l, r) = (b.stream::<String, String>("l"), b.stream::<String, String>("r"));
    l.left_join(&r, |a, b| format!("{a}+{}", b.map_or("-", |b| b.as_str())), w).to("out");
    Ok(TopologyTestDriver::new(b.build()?)?)
}

/// `left.outer_join(right)` with `None` shown as `-`.
fn outer(w: JoinWindows) -> anyhow::Result<TopologyTestDriver> {
    let b = StreamsBuilder::new();
    let (l, r) = (b.stream::<String, String>("l"), b.stream::<String, String>("r"));
    let show = |v: Option<&String>| v.map_or("-".to_string(), String::clone);
    l.outer_join(&r, move |a, b| format!("{}+{}", show(a), show(b)), w).to("out");
    Ok(TopologyTestDriver::new(b.build()?)?)
}

fn pipe(d: &TopologyTestDriver, topic: &str, key: &str, value: &str, ts: i64) -> R {
    d.input::<String, String>(topic).pipe(key.into(), value.into(), ts)?;
    Ok(())
}

fn out(d: &TopologyTestDriver) -> Vec<(String, String, i64)> {
    d.output::<String, String>("out").read_with_timestamps()
}

fn rows(expected: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    expected.iter().map(|(k, v, t)| (k.to_string(), v.to_string(), *t)).collect()
}

#[test]
fn left_record_matches_right_records_in_inclusive_bounds() -> R {
    let d = inner(windows(10, 5, 100))?;
    for (v, ts) in [("r89", 89), ("r90", 90), ("r105", 105), ("r106", 106)] {
        pipe(&d, "r", "k", v, ts)?;
    }
    pipe(&d, "l", "k", "l100", 100)?;
    // Matches in the right store's order (by timestamp); output time is the larger one.
    assert_eq!(out(&d), rows(&[("k", "l100+r90", 100), ("k", "l100+r105", 105)]));
    Ok(())
}

#[test]
fn right_record_matches_left_records_in_inclusive_bounds() -> R {
    let d = inner(windows(10, 5, 100))?;
    for (v, ts) in [("l94", 94), ("l95", 95), ("l110", 110), ("l111", 111)] {
        pipe(&d, "l", "k", v, ts)?;
    }
    pipe(&d, "r", "k", "r100", 100)?;
    assert_eq!(out(&d), rows(&[("k", "l95+r100", 100), ("k", "l110+r100", 110)]));
    Ok(())
}

#[test]
fn zero_window_joins_equal_timestamps_only() -> R {
    let d = inner(windows(0, 0, 0))?;
    pipe(&d, "l", "k", "a", 7)?;
    pipe(&d, "r", "k", "x", 6)?;
    pipe(&d, "r", "k", "y", 7)?;
    pipe(&d, "r", "k", "z", 8)?;
    pipe(&d, "l", "k", "b", 8)?;
    assert_eq!(out(&d), rows(&[("k", "a+y", 7), ("k", "b+z", 8)]));
    Ok(())
}

#[test]
fn duplicates_all_join() -> R {
    let d = inner(windows(0, 0, 0))?;
    pipe(&d, "l", "k", "a", 5)?;
    pipe(&d, "l", "k", "b", 5)?;
    pipe(&d, "r", "k", "x", 5)?;
    assert_eq!(out(&d), rows(&[("k", "a+x", 5), ("k", "b+x", 5)]));
    Ok(())
}

#[test]
fn stored_record_joins_until_its_window_plus_grace_closes() -> R {
    // l@100 is closed once 100 + after(10) + grace(5) < st.
    let d = inner(windows(10, 10, 5))?;
    pipe(&d, "l", "k", "l100", 100)?;
    pipe(&d, "l", "other", "x", 115)?; // st = 115: still open
    pipe(&d, "r", "k", "r110", 110)?;
    assert_eq!(out(&d), rows(&[("k", "l100+r110", 110)]));
    pipe(&d, "l", "other", "y", 116)?; // st = 116: closed
    pipe(&d, "r", "k", "r109", 109)?;
    assert_eq!(out(&d), rows(&[]));
    Ok(())
}

#[test]
fn late_record_still_joins_open_stored_records() -> R {
    // r@90 arrives long after its own window [70, 90] closed, but l@90's window [90, 110] is open.
    let d = inner(windows(0, 20, 0))?;
    pipe(&d, "l", "k", "l90", 90)?;
    pipe(&d, "l", "other", "x", 100)?;
    pipe(&d, "r", "k", "r90", 90)?;
    assert_eq!(out(&d), rows(&[("k", "l90+r90", 90)]));
    Ok(())
}

#[test]
fn inner_join_drops_null_keys_and_values() -> R {
    let b = StreamsBuilder::new();
    let l = b.stream::<Option<String>, Option<String>>("l");
    let r = b.stream::<Option<String>, Option<String>>("r");
    l.join(&r, |a, b| format!("{a:?}+{b:?}"), windows(5, 5, 0)).to("out");
    let d = TopologyTestDriver::new(b.build()?)?;
    let (li, ri) = (d.input::<Option<String>, Option<String>>("l"), d.input::<Option<String>, Option<String>>("r"));
    li.pipe(None, Some("a".into()), 1)?;
    li.pipe(Some("k".into()), None, 1)?;
    ri.pipe(None, Some("x".into()), 1)?;
    ri.pipe(Some("k".into()), None, 1)?;
    assert!(d.output::<Option<String>, String>("out").read_records().is_empty());
    assert_eq!(d.metric("dropped-records"), 4);
    Ok(())
}

#[test]
fn left_join_emits_null_key_left_records_at_once() -> R {
    let b = StreamsBuilder::new();
    let l = b.stream::<Option<String>, Option<String>>("l");
    let r = b.stream::<Option<String>, Option<String>>("r");
    l.left_join(&r, |a, b| format!("{a:?}+{b:?}"), windows(5, 5, 0)).to("out");
    let d = TopologyTestDriver::new(b.build()?)?;
    let (li, ri) = (d.input::<Option<String>, Option<String>>("l"), d.input::<Option<String>, Option<String>>("r"));
    li.pipe(None, Some("a".into()), 3)?;
    li.pipe(Some("k".into()), None, 4)?; // null value: dropped
    ri.pipe(None, Some("x".into()), 4)?; // right side: dropped
    let out = d.output::<Option<String>, String>("out").read_with_timestamps();
    assert_eq!(out, vec![(None, "Some(\"a\")+None".to_string(), 3)]);
    assert_eq!(d.metric("dropped-records"), 2);
    Ok(())
}

#[test]
fn left_join_holds_unmatched_records_until_window_plus_grace_closes() -> R {
    // l@100 closes when 100 + after(5) + grace(3) < st, i.e. at st = 109.
    let d = left(windows(10, 5, 3))?;
    pipe(&d, "l", "k", "l100", 100)?;
    pipe(&d, "r", "z", "r108", 108)?;
    assert_eq!(out(&d), rows(&[]));
    pipe(&d, "r", "z", "r109", 109)?; // a right record advances st too
    assert_eq!(out(&d), rows(&[("k", "l100+-", 100)]));
    pipe(&d, "r", "z", "r200", 200)?;
    assert_eq!(out(&d), rows(&[]), "emitted once");
    Ok(())
}

#[test]
fn left_join_never_null_joins_a_record_that_matched() -> R {
    let d = left(windows(10, 5, 3))?;
    pipe(&d, "l", "k", "l100", 100)?;
    pipe(&d, "r", "k", "r105", 105)?;
    pipe(&d, "r", "z", "far", 500)?;
    assert_eq!(out(&d), rows(&[("k", "l100+r105", 105)]));
    Ok(())
}

#[test]
fn d4_record_after_its_window_within_grace_is_held_not_null_joined_at_arrival() -> R {
    // after = 5, grace = 20: l@100 arrives at st = 110 (after its window end 105, within grace).
    let d = left(windows(5, 5, 20))?;
    pipe(&d, "l", "z", "zz", 110)?;
    pipe(&d, "l", "k", "l100", 100)?;
    assert_eq!(out(&d), rows(&[]), "never at arrival");
    pipe(&d, "r", "k", "r104", 104)?; // a late match still comes: no spurious (l100, null) before it
    assert_eq!(out(&d), rows(&[("k", "l100+r104", 104)]));
    pipe(&d, "r", "z", "far", 1_000)?;
    assert_eq!(out(&d), rows(&[("z", "zz+-", 110)]));
    Ok(())
}

#[test]
fn d4_closed_records_are_emitted_in_timestamp_then_key_order() -> R {
    let d = left(windows(0, 0, 0))?;
    pipe(&d, "l", "c", "c1", 1)?;
    pipe(&d, "l", "b", "b1", 1)?;
    pipe(&d, "l", "a", "a2", 2)?;
    pipe(&d, "l", "a", "a1", 1)?;
    pipe(&d, "l", "b", "b2", 2)?;
    // a2 advanced st to 2 and closed c1 and b1: emitted by key within one timestamp.
    // a1 arrived already closed (1 < st): held, emitted by the next record (b2).
    pipe(&d, "l", "z", "z9", 9)?;
    let all = rows(&[("b", "b1+-", 1), ("c", "c1+-", 1), ("a", "a1+-", 1), ("a", "a2+-", 2), ("b", "b2+-", 2)]);
    assert_eq!(out(&d), all);
    Ok(())
}

#[test]
fn record_arriving_after_its_window_closed_is_null_joined_by_the_next_record() -> R {
    let d = left(windows(0, 0, 0))?;
    pipe(&d, "l", "z", "z5", 5)?;
    pipe(&d, "l", "k", "k1", 1)?;
    assert_eq!(out(&d), rows(&[]), "never at arrival");
    pipe(&d, "r", "q", "q5", 5)?; // does not advance st, but reaches the join
    assert_eq!(out(&d), rows(&[("k", "k1+-", 1)]));
    Ok(())
}

#[test]
fn outer_join_holds_right_records_until_before_plus_grace() -> R {
    // r@100 closes when 100 + before(4) + grace(1) < st, i.e. at st = 106; l@100 at 100 + 7 + 1.
    let d = outer(windows(4, 7, 1))?;
    pipe(&d, "r", "k", "r100", 100)?;
    pipe(&d, "l", "j", "l100", 100)?;
    pipe(&d, "l", "z", "z105", 105)?;
    assert_eq!(out(&d), rows(&[]));
    pipe(&d, "l", "z", "z106", 106)?;
    assert_eq!(out(&d), rows(&[("k", "-+r100", 100)]));
    pipe(&d, "l", "z", "z109", 109)?;
    assert_eq!(out(&d), rows(&[("j", "l100+-", 100)]));
    Ok(())
}

#[test]
fn outer_join_match_cancels_both_held_records() -> R {
    let d = outer(windows(5, 5, 0))?;
    pipe(&d, "l", "k", "a", 10)?;
    pipe(&d, "r", "k", "x", 12)?;
    pipe(&d, "l", "z", "far", 100)?;
    assert_eq!(out(&d), rows(&[("k", "a+x", 12)]));
    pipe(&d, "r", "z", "far2", 200)?;
    assert_eq!(out(&d), rows(&[("z", "far+-", 100)]));
    Ok(())
}

#[test]
fn joins_of_differently_partitioned_topics_fail() -> R {
    let b = StreamsBuilder::new();
    let (l, r) = (b.stream::<String, String>("a"), b.stream::<String, String>("b"));
    l.join_with(&r, |a, b| format!("{a}{b}"), windows(1, 1, 0), StreamJoined::named("ab")).to("out");
    let config = DriverConfig::default().partitions("a", 2).partitions("b", 3);
    match TopologyTestDriver::with_config(b.build()?, config) {
        Err(StreamsError::Topology(TopologyError::NotCoPartitioned { operator, topics, counts })) => {
            assert_eq!(operator, "ab");
            assert_eq!(topics, vec!["a".to_string(), "b".to_string()]);
            assert_eq!(counts, vec![2, 3]);
        }
        other => panic!("expected NotCoPartitioned, got {other:?}"),
    }
    Ok(())
}

#[test]
fn changed_keys_are_repartitioned_before_the_join() -> R {
    let b = StreamsBuilder::new();
    let l = b.stream::<String, String>("a").select_key(|_, v| v.clone());
    let r = b.stream::<String, String>("b");
    l.join_with(&r, |a, b| format!("{a}|{b}"), windows(5, 5, 0), StreamJoined::named("j")).to("out");
    let config = DriverConfig::default().partitions("a", 4).partitions("b", 2);
    let d = TopologyTestDriver::with_config(b.build()?, config)?;
    let topics: Vec<String> = d.plan().internal_topics.iter().map(|t| t.name.clone()).collect();
    assert!(topics.contains(&"streamz-test-j-left-repartition".to_string()), "{topics:?}");
    let repartition = d.plan().internal_topics.into_iter().find(|t| t.name.ends_with("j-left-repartition"));
    assert_eq!(repartition.map(|t| t.partitions), Some(2));
    for i in 0..4 {
        d.input::<String, String>("b").pipe(format!("k{i}"), format!("r{i}"), 10)?;
        d.input::<String, String>("a").pipe(format!("x{i}"), format!("k{i}"), 11)?;
    }
    let mut got = out(&d);
    got.sort();
    let want: Vec<_> = (0..4).map(|i| (format!("k{i}"), format!("k{i}|r{i}"), 11)).collect();
    assert_eq!(got, want);
    Ok(())
}
