//! Table-table joins: rule 15 (both sides trigger, deletes) and rule 11 (timestamps).

use streamz::prelude::*;

type R = anyhow::Result<()>;
type Row = (i64, Option<String>, i64);

/// Joins table `l` with table `r` as `kind` says; the result's updates go to `out`.
fn driver(kind: &str) -> anyhow::Result<TopologyTestDriver> {
    let b = StreamsBuilder::new();
    let (l, r) = (b.table::<i64, String>("l"), b.table::<i64, String>("r"));
    let show = |v: Option<&String>| v.map_or("-".to_string(), String::clone);
    let joined = match kind {
        "inner" => l.join(&r, |a, b| format!("{a}+{b}")),
        "left" => l.left_join(&r, move |a, b| format!("{a}+{}", show(b))),
        _ => l.outer_join(&r, move |a, b| format!("{}+{}", show(a), show(b))),
    };
    joined.to_stream().to("out");
    Ok(TopologyTestDriver::new(b.build()?)?)
}

fn put(d: &TopologyTestDriver, side: &str, value: Option<&str>, ts: i64) -> R {
    d.input::<i64, Option<String>>(side).pipe(1, value.map(str::to_string), ts)?;
    Ok(())
}

fn out(d: &TopologyTestDriver) -> Vec<Row> {
    d.output::<i64, Option<String>>("out").read_with_timestamps()
}

fn rows(expected: &[(Option<&str>, i64)]) -> Vec<Row> {
    expected.iter().map(|(v, t)| (1, v.map(str::to_string), *t)).collect()
}

#[test]
fn inner_join_both_sides_trigger_with_max_timestamps() -> R {
    let d = driver("inner")?;
    put(&d, "l", Some("a"), 10)?;
    assert_eq!(out(&d), rows(&[]));
    put(&d, "r", Some("x"), 5)?;
    put(&d, "r", Some("y"), 20)?;
    put(&d, "l", Some("b"), 15)?;
    assert_eq!(out(&d), rows(&[(Some("a+x"), 10), (Some("a+y"), 20), (Some("b+y"), 20)]));
    Ok(())
}

#[test]
fn inner_join_deletes_emit_a_tombstone_while_the_other_side_has_a_value() -> R {
    let d = driver("inner")?;
    put(&d, "l", None, 1)?; // both empty: nothing
    put(&d, "r", Some("x"), 2)?;
    put(&d, "l", None, 3)?; // never joined, but the right has a value
    put(&d, "l", None, 4)?; // again
    put(&d, "r", None, 5)?; // the left is empty: nothing
    put(&d, "l", None, 6)?;
    assert_eq!(out(&d), rows(&[(None, 3), (None, 4)]));
    Ok(())
}

#[test]
fn left_join_rows_and_deletes() -> R {
    let d = driver("left")?;
    put(&d, "r", Some("x"), 1)?; // no left value: nothing
    put(&d, "r", None, 2)?; // right delete, left empty: nothing
    put(&d, "l", None, 3)?; // left delete, both empty: nothing
    put(&d, "r", Some("y"), 4)?;
    put(&d, "l", None, 5)?; // left delete, right has a value: tombstone
    put(&d, "l", None, 6)?; // again
    put(&d, "l", Some("a"), 7)?;
    put(&d, "r", None, 8)?; // right delete, left has a value: joiner(a, null)
    put(&d, "r", None, 9)?; // again
    put(&d, "l", None, 10)?; // left delete, left had a value: tombstone
    put(&d, "l", None, 11)?; // both empty: nothing
    let want = rows(&[(None, 5), (None, 6), (Some("a+y"), 7), (Some("a+-"), 8), (Some("a+-"), 9), (None, 10)]);
    assert_eq!(out(&d), want);
    Ok(())
}

#[test]
fn left_join_timestamp_is_the_update_when_the_other_side_is_empty() -> R {
    let d = driver("left")?;
    put(&d, "l", Some("a"), 30)?;
    put(&d, "r", Some("x"), 10)?; // max(10, 30)
    put(&d, "r", None, 20)?; // joiner(a, null) at max(20, 30)
    assert_eq!(out(&d), rows(&[(Some("a+-"), 30), (Some("a+x"), 30), (Some("a+-"), 30)]));
    Ok(())
}

#[test]
fn outer_join_rows_and_deletes() -> R {
    let d = driver("outer")?;
    put(&d, "l", None, 1)?; // both empty: nothing
    put(&d, "r", Some("x"), 2)?;
    put(&d, "l", None, 3)?; // left delete, right has a value: joiner(null, x)
    put(&d, "l", Some("a"), 4)?;
    put(&d, "r", None, 5)?; // right delete, left has a value: joiner(a, null)
    put(&d, "r", None, 6)?; // again
    put(&d, "l", None, 7)?; // left delete, right empty, left had a value: tombstone
    put(&d, "l", None, 8)?; // both empty: nothing
    put(&d, "r", None, 9)?;
    let want =
        rows(&[(Some("-+x"), 2), (Some("-+x"), 3), (Some("a+x"), 4), (Some("a+-"), 5), (Some("a+-"), 6), (None, 7)]);
    assert_eq!(out(&d), want);
    Ok(())
}

#[test]
fn a_join_result_can_be_looked_up_by_a_stream() -> R {
    // The (store-less) join result is materialized for the lookup; a delete removes the row.
    let b = StreamsBuilder::new();
    let (l, r) = (b.table::<i64, i64>("l"), b.table::<i64, i64>("r"));
    let joined = l.join(&r, |a, b| a * b);
    b.stream::<i64, i64>("probe").join_table(&joined, |_, v| *v).to("out");
    let d = TopologyTestDriver::new(b.build()?)?;
    d.input::<i64, Option<i64>>("l").pipe(1, Some(2), 1)?;
    d.input::<i64, Option<i64>>("r").pipe(1, Some(3), 2)?;
    d.input::<i64, i64>("probe").pipe(1, 0, 3)?;
    d.input::<i64, Option<i64>>("r").pipe(1, None, 4)?;
    d.input::<i64, i64>("probe").pipe(1, 0, 5)?;
    assert_eq!(d.output::<i64, i64>("out").read_values(), vec![6]);
    Ok(())
}

#[test]
fn tables_must_be_copartitioned() -> R {
    let b = StreamsBuilder::new();
    let (l, r) = (b.table::<i64, String>("a"), b.table::<i64, String>("b"));
    l.join(&r, |a, b| format!("{a}{b}")).to_stream().to("out");
    let config = DriverConfig::default().partitions("a", 2).partitions("b", 3);
    let err = TopologyTestDriver::with_config(b.build()?, config).err();
    assert!(
        matches!(&err, Some(StreamsError::Topology(TopologyError::NotCoPartitioned { operator, counts, .. }))
            if operator.starts_with("KTABLE-JOIN") && counts == &[2, 3]),
        "{err:?}"
    );
    Ok(())
}
