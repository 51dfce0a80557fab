//! `Table::group_by` + aggregations: rule 9 (subtract/add of one update) and rule 11
//! (output timestamps), on one and on several partitions.

use std::collections::BTreeMap;

use proptest::prelude::*;
use streamz::prelude::*;
use streamz::task::default_partition;

/// A table update: key, new (group, value) or a delete, timestamp.
type Op = (u8, Option<(u8, i64)>, i64);
/// An output record: group, aggregate, timestamp.
type OutRecord = (String, Option<i64>, i64);

fn s(k: &str) -> String {
    k.to_string()
}

/// Input: member → (group, value). The aggregate is a log of what was added and subtracted.
fn log_topology() -> anyhow::Result<streamz::topology::Topology> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, (String, i64)>("members")
        .group_by(|_, (group, value)| (group.clone(), *value))
        .aggregate_with(
            String::new,
            |_, v, log| format!("{log}+{v}"),
            |_, v, log| format!("{log}-{v}"),
            Materialized::named("logs"),
        )
        .to_stream()
        .to("out");
    Ok(builder.build()?)
}

#[test]
fn an_update_within_its_group_subtracts_and_adds_in_one_result() -> anyhow::Result<()> {
    let driver = TopologyTestDriver::new(log_topology()?)?;
    let input = driver.input::<String, Option<(String, i64)>>("members");
    input.pipe(s("a"), Some((s("g"), 1)), 10)?;
    input.pipe(s("a"), Some((s("g"), 5)), 20)?;
    let out = driver.output::<String, Option<String>>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("g"), Some(s("+1")), 10), (s("g"), Some(s("+1-1+5")), 20)]);
    Ok(())
}

#[test]
fn an_update_changing_group_leaves_the_old_group_first() -> anyhow::Result<()> {
    let driver = TopologyTestDriver::new(log_topology()?)?;
    let input = driver.input::<String, Option<(String, i64)>>("members");
    input.pipe(s("a"), Some((s("g1"), 1)), 10)?;
    input.pipe(s("a"), Some((s("g2"), 5)), 20)?;
    let out = driver.output::<String, Option<String>>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("g1"), Some(s("+1")), 10), (s("g1"), Some(s("+1-1")), 20), (s("g2"), Some(s("+5")), 20)]);
    Ok(())
}

#[test]
fn a_delete_only_subtracts_and_the_aggregate_stays() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("members")
        .group_by(|member, group| (group.clone(), member.clone()))
        .count_with(Materialized::named("sizes"))
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<String>>("members");
    input.pipe(s("a"), Some(s("g")), 1)?;
    input.pipe(s("a"), None, 2)?;
    input.pipe(s("a"), None, 3)?; // nothing left to subtract: no output
    let out = driver.output::<String, Option<i64>>("out").read_with_timestamps();
    assert_eq!(out, vec![(s("g"), Some(1), 1), (s("g"), Some(0), 2)]);
    assert_eq!(driver.key_value_store::<String, i64>("sizes")?, vec![(s("g"), 0)]);
    Ok(())
}

#[test]
fn reduce_subtracts_before_adding() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, (String, String)>("members")
        .group_by(|_, (group, v)| (group.clone(), v.clone()))
        .reduce(|agg, v| format!("{agg}+{v}"), |agg, v| format!("{agg}-{v}"))
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<(String, String)>>("members");
    input.pipe(s("a"), Some((s("g"), s("x"))), 0)?; // the first value is the aggregate
    input.pipe(s("b"), Some((s("g"), s("y"))), 1)?;
    input.pipe(s("a"), Some((s("g"), s("z"))), 2)?;
    let out = driver.output::<String, Option<String>>("out").read_values();
    assert_eq!(out, vec![Some(s("x")), Some(s("x+y")), Some(s("x+y-x+z"))]);
    Ok(())
}

/// Rule 11: an aggregate's timestamp is the larger of the record's and its previous one.
#[test]
fn results_carry_the_largest_timestamp_of_record_and_aggregate() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("members")
        .group_by(|member, group| (group.clone(), member.clone()))
        .count()
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?)?;
    let input = driver.input::<String, Option<String>>("members");
    input.pipe(s("a"), Some(s("g1")), 100)?;
    input.pipe(s("b"), Some(s("g1")), 50)?; // g1 was at 100
    input.pipe(s("c"), Some(s("g2")), 40)?; // new group: the record's time
    input.pipe(s("a"), Some(s("g2")), 60)?; // g1 -1 at max(60, 100); g2 +1 at max(60, 40)
    input.pipe(s("c"), None, 30)?; // g2 -1 at max(30, 60)
    let out = driver.output::<String, Option<i64>>("out").read_with_timestamps();
    assert_eq!(
        out,
        vec![
            (s("g1"), Some(1), 100),
            (s("g1"), Some(2), 100),
            (s("g2"), Some(1), 40),
            (s("g1"), Some(1), 100),
            (s("g2"), Some(2), 60),
            (s("g2"), Some(1), 60),
        ]
    );
    Ok(())
}

#[test]
fn group_updates_are_partitioned_by_group_key() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("members")
        .group_by_with(|member, group| (group.clone(), member.clone()), Grouped::named("by-group"))
        .count_with(Materialized::named("sizes"))
        .to_stream()
        .to("out");
    let config = DriverConfig::default().partitions("members", 4);
    let driver = TopologyTestDriver::with_config(builder.build()?, config)?;
    let input = driver.input::<String, Option<String>>("members");
    let groups = ["red", "blue", "green", "gold", "grey"];
    for i in 0..20i64 {
        input.pipe(format!("m{}", i % 7), Some(s(groups[(i % 5) as usize])), i)?;
    }
    input.pipe(s("m1"), None, 20)?;
    let repartition = driver.raw_records("streamz-test-by-group-repartition");
    assert!(!repartition.is_empty());
    for raw in &repartition {
        let key = raw.key.as_deref().expect("group updates have keys");
        assert_eq!(raw.partition, default_partition(key, 4), "record {raw:?} is in the wrong partition");
    }
    assert!(repartition.iter().map(|r| r.partition).collect::<std::collections::BTreeSet<_>>().len() > 1);
    // m0..m6's final groups: i = 13..=19 set m6, m0, m1, ..., m5; then m1 is deleted.
    let mut expected: BTreeMap<String, i64> = groups.iter().map(|g| (s(g), 0)).collect();
    for i in 13..20i64 {
        if i % 7 != 1 {
            *expected.get_mut(groups[(i % 5) as usize]).unwrap() += 1;
        }
    }
    let mut sizes: BTreeMap<String, i64> = BTreeMap::new();
    for (group, count) in driver.key_value_store::<String, i64>("sizes")? {
        assert!(sizes.insert(group, count).is_none(), "a group is aggregated by two tasks");
    }
    assert_eq!(sizes, expected);
    Ok(())
}

/// The expected outputs of `group_by(..).aggregate(sum)` per rule 9 and 11, by a plain fold.
fn reference(ops: &[Op]) -> Vec<OutRecord> {
    let mut table: BTreeMap<u8, (u8, i64)> = BTreeMap::new();
    let mut aggs: BTreeMap<u8, (i64, i64)> = BTreeMap::new();
    let mut out = Vec::new();
    let mut apply = |group: u8, sub: Option<i64>, add: Option<i64>, ts: i64| {
        let (sum, at) = match aggs.get(&group) {
            Some(&(sum, at)) => (sum - sub.unwrap_or(0) + add.unwrap_or(0), at.max(ts)),
            None => (add.unwrap_or(0), ts),
        };
        aggs.insert(group, (sum, at));
        out.push((format!("g{group}"), Some(sum), at));
    };
    for &(key, new, ts) in ops {
        let old = match new {
            Some(n) => table.insert(key, n),
            None => table.remove(&key),
        };
        match (new, old) {
            (Some((ng, nv)), Some((og, ov))) if ng == og => apply(ng, Some(ov), Some(nv), ts),
            (new, old) => {
                if let Some((og, ov)) = old {
                    apply(og, Some(ov), None, ts);
                }
                if let Some((ng, nv)) = new {
                    apply(ng, None, Some(nv), ts);
                }
            }
        }
    }
    out
}

fn run(ops: &[Op], partitions: i32) -> anyhow::Result<Vec<OutRecord>> {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, (String, i64)>("in")
        .group_by(|_, (group, v)| (group.clone(), *v))
        .aggregate(|| 0i64, |_, v, sum| sum + v, |_, v, sum| sum - v)
        .to_stream()
        .to("out");
    let config = DriverConfig::default().partitions("in", partitions);
    let driver = TopologyTestDriver::with_config(builder.build()?, config)?;
    let input = driver.input::<String, Option<(String, i64)>>("in");
    for &(key, new, ts) in ops {
        input.pipe(format!("k{key}"), new.map(|(g, v)| (format!("g{g}"), v)), ts)?;
    }
    Ok(driver.output::<String, Option<i64>>("out").read_with_timestamps())
}

fn per_group(out: &[OutRecord]) -> BTreeMap<String, Vec<(Option<i64>, i64)>> {
    let mut map: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (g, v, ts) in out {
        map.entry(g.clone()).or_default().push((*v, *ts));
    }
    map
}

fn op() -> impl Strategy<Value = Op> {
    (0u8..5, prop::option::weighted(0.8, (0u8..3, -5i64..10)), 0i64..100)
}

proptest! {
    #[test]
    fn group_by_aggregate_matches_a_reference_fold(ops in prop::collection::vec(op(), 0..40)) {
        let expected = reference(&ops);
        prop_assert_eq!(run(&ops, 1).unwrap(), expected.clone());
        // On several partitions the groups are aggregated by different tasks: each group's
        // results are the same, in the same order.
        prop_assert_eq!(per_group(&run(&ops, 3).unwrap()), per_group(&expected));
    }
}
