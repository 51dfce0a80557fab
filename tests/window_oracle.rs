//! Oracle tests: random keyed input, out of order and late, through windowed aggregations
//! and through plain reference folds over `BTreeMap`s written from the rules in
//! KAFKA_STREAMS_SEMANTICS.md (1-4, 8, 11; D1, D2, D5). Outputs must be equal record for record.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use streamz::prelude::*;

type Out = Vec<(Windowed<String>, Option<i64>, i64)>;
type Input = Vec<(String, i64, i64)>;

fn ms(n: i64) -> Duration {
    Duration::from_millis(n as u64)
}

/// The order-sensitive aggregator of the tests: `agg * 3 + v`.
fn step(agg: i64, v: i64) -> i64 {
    agg.wrapping_mul(3).wrapping_add(v)
}

fn input() -> impl Strategy<Value = Input> {
    let record = (0..3u8, 0..150i64, -5..5i64).prop_map(|(k, ts, v)| (format!("k{k}"), ts, v));
    prop::collection::vec(record, 1..40)
}

/// Runs `input` through `out_count` and `out_agg` of a topology built by `build`.
fn run(build: impl FnOnce(&StreamsBuilder), input: &Input) -> anyhow::Result<(Out, Out)> {
    let builder = StreamsBuilder::new();
    build(&builder);
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let topic = driver.input::<String, i64>("in");
    for (k, ts, v) in input {
        topic.pipe(k.clone(), *v, *ts)?;
    }
    Ok((driver.output("count").read_with_timestamps(), driver.output("agg").read_with_timestamps()))
}

/// Rules 1, 2, 11: every aligned window `ts - size < start <= ts`, `start >= 0`, ascending,
/// updated while `end > st - grace`, at `max(ts, previous)`.
fn time_model(input: &Input, size: i64, advance: i64, grace: i64) -> (Out, Out) {
    let (mut st, mut counts, mut aggs) = (i64::MIN, BTreeMap::new(), BTreeMap::new());
    let (mut out_count, mut out_agg) = (Out::new(), Out::new());
    for (k, ts, v) in input {
        st = st.max(*ts);
        let mut starts = Vec::new();
        let mut start = ts / advance * advance;
        while start > ts - size && start >= 0 {
            starts.push(start);
            start -= advance;
        }
        for start in starts.into_iter().rev().filter(|s| s + size > st - grace) {
            let window = Windowed::new(k.clone(), start, start + size);
            let (n, t) = counts.get(&window).copied().unwrap_or((0, *ts));
            counts.insert(window.clone(), (n + 1, t.max(*ts)));
            out_count.push((window.clone(), Some(n + 1), t.max(*ts)));
            let (a, t) = aggs.get(&window).copied().unwrap_or((0, *ts));
            aggs.insert(window.clone(), (step(a, *v), t.max(*ts)));
            out_agg.push((window, Some(step(a, *v)), t.max(*ts)));
        }
    }
    (out_count, out_agg)
}

/// Rule 4 and D1: merge every overlapping session not closed, in `(end, start)` order;
/// tombstones for the merged ones unless the result is `[ts, ts]`; emit at `merged.end`.
fn session_model(input: &Input, gap: i64, grace: i64, merge: fn(i64, i64) -> i64, fold: fn(i64, i64) -> i64) -> Out {
    let mut st = i64::MIN;
    let mut sessions: BTreeMap<String, Vec<(i64, i64, i64)>> = BTreeMap::new(); // (end, start, agg)
    let mut out = Out::new();
    for (k, ts, v) in input {
        st = st.max(*ts);
        let close = st - grace - gap;
        let mine = sessions.entry(k.clone()).or_default();
        mine.sort();
        let (found, rest): (Vec<_>, Vec<_>) =
            mine.iter().partition(|(e, s, _)| *e >= ts - gap && *s <= ts + gap && *e >= close);
        let (mut start, mut end, mut acc) = (*ts, *ts, 0);
        for (e, s, a) in &found {
            (start, end, acc) = (start.min(*s), end.max(*e), merge(acc, *a));
        }
        if end < close {
            continue;
        }
        if (start, end) != (*ts, *ts) {
            out.extend(found.iter().map(|(e, s, _)| (Windowed::new(k.clone(), *s, *e), None, *e)));
        }
        let agg = fold(acc, *v);
        let mut kept: Vec<_> = rest.into_iter().collect();
        kept.retain(|(e, s, _)| (*e, *s) != (end, start));
        kept.push((end, start, agg));
        *mine = kept;
        out.push((Windowed::new(k.clone(), start, end), Some(agg), end));
    }
    out
}

fn windowed_time(builder: &StreamsBuilder, windows: TimeWindows) {
    let windowed = builder.stream::<String, i64>("in").group_by_key().windowed_by(windows);
    windowed.count().to_stream().to("count");
    windowed.aggregate(|| 0i64, |_, v, a| step(a, v)).to_stream().to("agg");
}

fn time_windows() -> impl Strategy<Value = (i64, i64, i64)> {
    (1..30i64, 0..25i64).prop_flat_map(|(size, grace)| (Just(size), 1..=size, Just(grace)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn tumbling_matches_the_reference(input in input(), size in 1..30i64, grace in 0..25i64) {
        let windows = TimeWindows::tumbling(ms(size)).grace(ms(grace));
        let (count, agg) = run(|b| windowed_time(b, windows), &input).unwrap();
        let (want_count, want_agg) = time_model(&input, size, size, grace);
        prop_assert_eq!(count, want_count);
        prop_assert_eq!(agg, want_agg);
    }

    #[test]
    fn hopping_matches_the_reference(input in input(), (size, advance, grace) in time_windows()) {
        let windows = TimeWindows::hopping(ms(size), ms(advance)).grace(ms(grace));
        let (count, agg) = run(|b| windowed_time(b, windows), &input).unwrap();
        let (want_count, want_agg) = time_model(&input, size, advance, grace);
        prop_assert_eq!(count, want_count);
        prop_assert_eq!(agg, want_agg);
    }

    #[test]
    fn sessions_match_the_reference(input in input(), gap in 1..20i64, grace in 0..20i64) {
        let sessions = SessionWindows::with_inactivity_gap(ms(gap)).grace(ms(grace));
        let (count, agg) = run(
            |b| {
                let windowed = b.stream::<String, i64>("in").group_by_key().windowed_by(sessions);
                windowed.count().to_stream().to("count");
                windowed.aggregate(|| 0i64, |_, v, a| step(a, v), |_, a, b| a.wrapping_mul(7).wrapping_add(b))
                    .to_stream()
                    .to("agg");
            },
            &input,
        )
        .unwrap();
        prop_assert_eq!(count, session_model(&input, gap, grace, |a, b| a + b, |a, _| a + 1));
        prop_assert_eq!(agg, session_model(&input, gap, grace, |a, b| a.wrapping_mul(7).wrapping_add(b), step));
    }
}

/// Rule 3, D2, D5: the windows of a key are the left windows of its accepted records and the
/// right windows of those with a later record within `d + 1`; a window's aggregate is the sum
/// of its records, its timestamp their largest. A record emits each open window that holds
/// it or that it creates, once, in Kafka Streams' order.
fn sliding_model(input: &Input, d: i64, grace: i64) -> Out {
    fn windows(records: &[(i64, i64)], d: i64) -> BTreeMap<i64, (i64, i64)> {
        let mut starts: Vec<i64> = records.iter().map(|(r, _)| (r - d).max(0)).collect();
        starts.extend(
            records.iter().filter(|(r, _)| records.iter().any(|(x, _)| x > r && *x <= r + d + 1)).map(|(r, _)| r + 1),
        );
        let content = |s: i64| records.iter().filter(move |(r, _)| s <= *r && *r <= s + d);
        starts
            .into_iter()
            .map(|s| (s, (content(s).map(|(_, v)| v).sum(), content(s).map(|(r, _)| *r).max().unwrap())))
            .collect()
    }
    let mut st = i64::MIN;
    let mut records: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    let mut out = Out::new();
    for (k, ts, v) in input {
        st = st.max(*ts);
        let close = st - grace;
        if ts + d < close {
            continue;
        }
        let mine = records.entry(k).or_default();
        let before = windows(mine, d);
        mine.push((*ts, *v));
        let after = windows(mine, d);
        let holds = |s: i64| s <= *ts && *ts <= s + d;
        let existing: Vec<i64> = after.keys().copied().filter(|s| before.contains_key(s) && holds(*s)).collect();
        let created: Vec<i64> = after.keys().copied().filter(|s| !before.contains_key(s)).collect();
        let mut order: Vec<i64> = Vec::new();
        if *ts >= d {
            order.extend(existing.iter().rev());
            order.extend(created.iter().rev().filter(|s| holds(**s)));
            order.extend(created.iter().filter(|s| !holds(**s)));
        } else {
            order.extend(existing.iter().filter(|s| **s > 0));
            order.extend(created.iter().filter(|s| !holds(**s)));
            order.extend(created.iter().filter(|s| holds(**s) && **s > 0));
            order.extend(after.keys().filter(|s| **s == 0 && holds(0)));
        }
        for s in order.into_iter().filter(|s| s + d >= close) {
            let (sum, newest) = after[&s];
            out.push((Windowed::new(k.clone(), s, s + d), Some(sum), newest));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sliding_matches_the_reference(input in input(), d in 1..20i64, grace in 0..30i64) {
        let windows = SlidingWindows::with_difference_and_grace(ms(d), ms(grace));
        let (_, sums) = run(
            |b| {
                let windowed = b.stream::<String, i64>("in").group_by_key().windowed_by(windows);
                windowed.count().to_stream().to("count");
                windowed.aggregate(|| 0i64, |_, v, a| a + v).to_stream().to("agg");
            },
            &input,
        )
        .unwrap();
        prop_assert_eq!(sums, sliding_model(&input, d, grace));
    }
}
