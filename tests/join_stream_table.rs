//! Stream-table joins: rules 11, 12, 13 (null keys/values) and 15 (only the stream triggers).

use streamz::prelude::*;

type R = anyhow::Result<()>;

#[test]
fn only_the_stream_side_triggers_and_reads_the_current_value() -> R {
    let b = StreamsBuilder::new();
    let t = b.table::<String, String>("t");
    b.stream::<String, String>("s").join_table(&t, |s, t| format!("{s}/{t}")).to("out");
    let d = TopologyTestDriver::new(b.build()?)?;
    let (s, t) = (d.input::<String, String>("s"), d.input::<String, Option<String>>("t"));
    s.pipe("k".into(), "s1".into(), 10)?; // no table value: nothing
    t.pipe("k".into(), Some("t1".into()), 50)?; // table updates emit nothing
    s.pipe("k".into(), "s2".into(), 20)?; // timestamp is the stream record's, even if older
    t.pipe("k".into(), Some("t2".into()), 60)?;
    s.pipe("k".into(), "s3".into(), 70)?;
    t.pipe("k".into(), None, 80)?;
    s.pipe("k".into(), "s4".into(), 90)?;
    let out = d.output::<String, String>("out").read_with_timestamps();
    assert_eq!(out, vec![("k".into(), "s2/t1".into(), 20), ("k".into(), "s3/t2".into(), 70)]);
    Ok(())
}

#[test]
fn null_keys_and_values_inner_drops_left_emits() -> R {
    let b = StreamsBuilder::new();
    let t = b.table::<Option<String>, String>("t");
    let s = b.stream::<Option<String>, Option<String>>("s");
    s.join_table(&t, |v, t| format!("{v:?}/{t}")).to("inner");
    s.left_join_table(&t, |v, t| format!("{v:?}/{t:?}")).to("left");
    let d = TopologyTestDriver::new(b.build()?)?;
    d.input::<Option<String>, Option<String>>("t").pipe(Some("k".into()), Some("t".into()), 0)?;
    let s = d.input::<Option<String>, Option<String>>("s");
    s.pipe(None, Some("a".into()), 1)?;
    s.pipe(Some("k".into()), None, 2)?;
    s.pipe(Some("k".into()), Some("b".into()), 3)?;
    s.pipe(Some("x".into()), Some("c".into()), 4)?;
    let inner = d.output::<Option<String>, String>("inner").read_with_timestamps();
    assert_eq!(inner, vec![(Some("k".into()), "Some(\"b\")/t".into(), 3)]);
    let left = d.output::<Option<String>, String>("left").read_with_timestamps();
    let want = vec![
        (None, "Some(\"a\")/None".to_string(), 1),
        (Some("k".into()), "Some(\"b\")/Some(\"t\")".into(), 3),
        (Some("x".into()), "Some(\"c\")/None".into(), 4),
    ];
    assert_eq!(left, want);
    // inner: the null key and the null value; left: the null value.
    assert_eq!(d.metric("dropped-records"), 3);
    Ok(())
}

#[test]
fn stream_with_changed_key_is_repartitioned_and_inputs_must_be_copartitioned() -> R {
    let b = StreamsBuilder::new();
    let t = b.table::<String, String>("t");
    b.stream::<String, String>("s").select_key(|_, v| v.clone()).join_table(&t, |s, t| format!("{s}{t}")).to("out");
    let topology = b.build()?;
    let d = TopologyTestDriver::with_config(topology, DriverConfig::default().partitions("s", 3).partitions("t", 2))?;
    assert!(d.plan().internal_topics.iter().any(|t| t.name.ends_with("-left-repartition") && t.partitions == 2));
    d.input::<String, Option<String>>("t").pipe("x".into(), Some("!".into()), 0)?;
    d.input::<String, String>("s").pipe("a".into(), "x".into(), 1)?;
    assert_eq!(d.output::<String, String>("out").read_key_values(), vec![("x".into(), "x!".into())]);

    let b = StreamsBuilder::new();
    let t = b.table::<String, String>("t");
    b.stream::<String, String>("s").join_table(&t, |s, t| format!("{s}{t}")).to("out");
    let config = DriverConfig::default().partitions("s", 3).partitions("t", 2);
    let err = TopologyTestDriver::with_config(b.build()?, config).err();
    assert!(
        matches!(&err, Some(StreamsError::Topology(TopologyError::NotCoPartitioned { topics, .. })) if topics == &["s", "t"]),
        "{err:?}"
    );
    Ok(())
}
