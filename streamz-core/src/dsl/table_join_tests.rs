//! Joins with tables that have no store of their own.

use std::sync::Arc;

use crate::prelude::*;
use crate::processor::ops::FnProcessor;
use crate::processor::ProcessorContext;
use crate::record::{Change, Record};
use crate::serdes::SerdeRef;
use crate::topology::ProcFactory;

/// A store-less node running `f` on each change of `table`.
fn add_fn<K: Data, V: Data, K2: Data, V2: Data, F>(
    table: &Table<K, V>,
    f: F,
    key_serde: SerdeRef<K2>,
    value_serde: SerdeRef<V2>,
) -> Table<K2, V2>
where
    F: Fn(Record<K, Change<V>>, &mut ProcessorContext<'_, K2, Change<V2>>) -> crate::Result<()> + Send + Sync + 'static,
{
    let f = Arc::new(f);
    let factory = ProcFactory::<_, K, Change<V>, K2, Change<V2>, _>::new(move |_, _| Ok(FnProcessor::new(f.clone())));
    let mut graph = table.builder.graph();
    let name = graph.name(None, "KTABLE-FN");
    let node = graph.add_processor(name, &[table.node], factory);
    drop(graph);
    Table { builder: table.builder.clone(), node, key_serde, value_serde, store: None, window: None }
}

/// `table` with its values doubled by a store-less node.
fn doubled(table: &Table<String, i64>) -> Table<String, i64> {
    let doubled = table.map_values(|v| v * 2);
    assert!(doubled.store.is_none(), "the mapped table must have no store of its own");
    doubled
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

/// A join update's new and old value.
type NewOld = (Option<i64>, Option<i64>);

#[test]
fn join_updates_carry_the_old_joined_value() -> anyhow::Result<()> {
    let b = StreamsBuilder::new();
    let (l, r) = (b.table::<String, i64>("l"), b.table::<String, i64>("r"));
    let joined = l.left_join(&r, |a, b| a * b.copied().unwrap_or(1));
    let changes = add_fn(
        &joined,
        |r: Record<String, Change<i64>>, ctx: &mut ProcessorContext<'_, String, Change<NewOld>>| {
            let value = Change::new(Some((r.value.new, r.value.old)), None);
            ctx.forward(r.with_value(value))
        },
        joined.key_serde.clone(),
        NewOld::default_serde(),
    );
    changes.to_stream().to("out");
    let d = TopologyTestDriver::new(b.build()?)?;
    let (li, ri) = (d.input::<String, Option<i64>>("l"), d.input::<String, Option<i64>>("r"));
    li.pipe("k".into(), Some(2), 0)?; // (2, -)
    ri.pipe("k".into(), Some(3), 1)?; // 2 -> 6: old from the old right value (none: 2)
    li.pipe("k".into(), Some(5), 2)?; // 6 -> 15: old from the old left value and current right
    ri.pipe("k".into(), None, 3)?; // 15 -> 5
    li.pipe("k".into(), None, 4)?; // 5 -> tombstone
    let out = d.output::<String, Option<NewOld>>("out").read_values();
    let want = [(Some(2), None), (Some(6), Some(2)), (Some(15), Some(6)), (Some(5), Some(15)), (None, Some(5))];
    assert_eq!(out, want.into_iter().map(Some).collect::<Vec<_>>());
    Ok(())
}
