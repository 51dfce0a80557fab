//! Oracle test of stream-stream joins: random keyed input with out-of-order timestamps through
//! inner and left joins, against a plain model of rules 13 and 14 and D4.
//!
//! The model: the join's stream time `st` is the largest timestamp seen. A record matches the
//! other side's records of its key in its window (bounds inclusive) whose own window plus grace
//! has not closed in `st`. An unmatched left record is held; every record reaching the join
//! first emits the held records whose window plus grace closed (`ts + after + grace < st`).

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use streamz::prelude::*;

#[derive(Clone, Debug)]
struct Event {
    left: bool,
    key: u8,
    ts: i64,
}

/// Output rows tagged with the index of the input event that produced them.
type Rows = Vec<(usize, String, String, i64)>;

struct Model {
    before: i64,
    after: i64,
    grace: i64,
}

impl Model {
    /// Inner and left join outputs of `events`, each sorted.
    fn run(&self, events: &[Event]) -> (Rows, Rows) {
        let (mut inner, mut left) = (Vec::new(), Vec::new());
        let mut st = i64::MIN;
        let mut seen: Vec<(usize, &Event)> = Vec::new();
        let mut held: BTreeMap<usize, &Event> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            st = st.max(e.ts);
            let closed: Vec<usize> =
                held.iter().filter(|(_, l)| l.ts + self.after + self.grace < st).map(|(id, _)| *id).collect();
            for id in closed {
                let l = held.remove(&id).expect("held");
                left.push((i, key(l.key), format!("l{id}+-"), l.ts));
            }
            let mut matched = false;
            for &(j, o) in &seen {
                if o.left == e.left || o.key != e.key {
                    continue;
                }
                let (l, r, lid, rid) = if e.left { (e, o, i, j) } else { (o, e, j, i) };
                let in_window = l.ts - self.before <= r.ts && r.ts <= l.ts + self.after;
                let other_open = match o.left {
                    true => o.ts + self.after + self.grace >= st,
                    false => o.ts + self.before + self.grace >= st,
                };
                if in_window && other_open {
                    matched = true;
                    let row = (i, key(e.key), format!("l{lid}+r{rid}"), l.ts.max(r.ts));
                    inner.push(row.clone());
                    left.push(row);
                    if o.left {
                        held.remove(&j);
                    }
                }
            }
            if e.left && !matched {
                held.insert(i, e);
            }
            seen.push((i, e));
        }
        inner.sort();
        left.sort();
        (inner, left)
    }
}

fn key(k: u8) -> String {
    format!("k{k}")
}

fn run_topology(windows: JoinWindows, events: &[Event]) -> anyhow::Result<(Rows, Rows)> {
    let b = StreamsBuilder::new();
    let (l, r) = (b.stream::<String, String>("l"), b.stream::<String, String>("r"));
    l.join(&r, |a, b| format!("{a}+{b}"), windows).to("inner");
    l.left_join(&r, |a, b| format!("{a}+{}", b.map_or("-", |b| b.as_str())), windows).to("left");
    let d = TopologyTestDriver::new(b.build()?)?;
    let (inner_out, left_out) = (d.output::<String, String>("inner"), d.output::<String, String>("left"));
    let (mut inner, mut left) = (Vec::new(), Vec::new());
    for (i, e) in events.iter().enumerate() {
        let (topic, value) = if e.left { ("l", format!("l{i}")) } else { ("r", format!("r{i}")) };
        d.input::<String, String>(topic).pipe(key(e.key), value, e.ts)?;
        inner.extend(inner_out.read_with_timestamps().into_iter().map(|(k, v, t)| (i, k, v, t)));
        left.extend(left_out.read_with_timestamps().into_iter().map(|(k, v, t)| (i, k, v, t)));
    }
    inner.sort();
    left.sort();
    Ok((inner, left))
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec((any::<bool>(), 0u8..3, 0i64..60), 0..40)
        .prop_map(|v| v.into_iter().map(|(left, key, ts)| Event { left, key, ts }).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn stream_stream_joins_match_the_model(
        (before, after, grace) in (0i64..8, 0i64..8, 0i64..8),
        events in events(),
    ) {
        let ms = |n: i64| Duration::from_millis(n as u64);
        let windows = JoinWindows::of(ms(0)).before(ms(before)).after(ms(after)).grace(ms(grace));
        let (inner, left) = run_topology(windows, &events).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (want_inner, want_left) = Model { before, after, grace }.run(&events);
        prop_assert_eq!(inner, want_inner);
        prop_assert_eq!(left, want_left);
    }
}
