//! Joins with tables that have no store of their own.

use crate::prelude::*;
use crate::processor::ProcessorContext;
use crate::record::{Change, Record};

/// `table` with its values doubled by a store-less node.
fn doubled(table: &Table<String, i64>) -> Table<String, i64> {
    table.add_fn(
        "KTABLE-MAPVALUES",
        |r: Record<String, Change<i64>>, ctx: &mut ProcessorContext<'_, String, Change<i64>>| {
            let change = Change::new(r.value.new.map(|v| v * 2), r.value.old.map(|v| v * 2));
            ctx.forward(r.with_value(change))
        },
        table.key_serde.clone(),
        table.value_serde.clone(),
    )
}

#[test]
fn stream_joins_a_materialized_copy_of_a_storeless_table() -> anyhow::Result<()> {
    let b = StreamsBuilder::new();
    let t = doubled(&b.table::<String, i64>("t"));
    assert!(t.store.is_none());
    b.stream::<String, i64>("s").join_table(&t, |a, b| a + b).to("out");
    let d = TopologyTestDriver::new(b.build()?)?;
    d.input::<String, Option<i64>>("t").pipe("k".into(), Some(5), 0)?;
    d.input::<String, i64>("s").pipe("k".into(), 1, 1)?;
    d.input::<String, Option<i64>>("t").pipe("k".into(), None, 2)?;
    d.input::<String, i64>("s").pipe("k".into(), 1, 3)?;
    assert_eq!(d.output::<String, i64>("out").read_values(), vec![11]);
    Ok(())
}

#[test]
fn table_joins_materialize_both_storeless_sides() -> anyhow::Result<()> {
    let b = StreamsBuilder::new();
    let l = doubled(&b.table::<String, i64>("l"));
    let r = doubled(&b.table::<String, i64>("r"));
    l.join(&r, |a, b| a + b).to_stream().to("out");
    let d = TopologyTestDriver::new(b.build()?)?;
    d.input::<String, Option<i64>>("l").pipe("k".into(), Some(1), 0)?;
    d.input::<String, Option<i64>>("r").pipe("k".into(), Some(10), 1)?;
    d.input::<String, Option<i64>>("l").pipe("k".into(), Some(2), 2)?;
    assert_eq!(d.output::<String, Option<i64>>("out").read_values(), vec![Some(22), Some(24)]);
    Ok(())
}
