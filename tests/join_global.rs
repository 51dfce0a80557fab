//! Stream-global-table joins: computed lookup key, no co-partitioning, stream timestamps.

use streamz::prelude::*;
use streamz::topology::Topology;

type R = anyhow::Result<()>;

fn topology() -> anyhow::Result<Topology> {
    let b = StreamsBuilder::new();
    let g = b.global_table::<Option<String>, String>("g");
    let s = b.stream::<i64, Option<String>>("s");
    // The lookup key is the value: a null value is dropped before, so it is never null here,
    // but an empty string maps to a null lookup key.
    let key = |_: &i64, v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    s.join_global(&g, key, |v, g| format!("{v:?}={g}")).to("inner");
    s.left_join_global(&g, key, |v, g| format!("{v:?}={g:?}")).to("left");
    Ok(b.build()?)
}

#[test]
fn lookup_by_computed_key_on_any_partition_count() -> R {
    let d =
        TopologyTestDriver::with_config(topology()?, DriverConfig::default().partitions("s", 4).partitions("g", 3))?;
    let g = d.input::<Option<String>, Option<String>>("g");
    g.pipe(Some("fr".into()), Some("France".into()), 100)?;
    let s = d.input::<i64, Option<String>>("s");
    s.pipe(1, Some("fr".into()), 5)?;
    s.pipe(2, Some("de".into()), 6)?;
    s.pipe(3, Some(String::new()), 7)?;
    s.pipe(4, None, 8)?;
    g.pipe(Some("fr".into()), None, 101)?;
    s.pipe(5, Some("fr".into()), 9)?;
    let inner = d.output::<i64, String>("inner").read_with_timestamps();
    assert_eq!(inner, vec![(1, "Some(\"fr\")=France".to_string(), 5)]);
    let mut left = d.output::<i64, String>("left").read_with_timestamps();
    left.sort();
    let want = vec![
        (1, "Some(\"fr\")=Some(\"France\")".to_string(), 5),
        (2, "Some(\"de\")=None".into(), 6),
        (3, "Some(\"\")=None".into(), 7),
        (5, "Some(\"fr\")=None".into(), 9),
    ];
    assert_eq!(left, want);
    // inner: the null lookup key and the null value; left: the null value.
    assert_eq!(d.metric("dropped-records"), 3);
    Ok(())
}
