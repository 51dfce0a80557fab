//! `Topology::describe()` as a snapshot, `TopologyError`s for misuse, and `warnings()`.

use streamz::prelude::*;

fn page_counts(builder: &StreamsBuilder) {
    let clicks = builder.stream_with::<String, String>("clicks", Consumed::default().with_name("clicks-source"));
    clicks.filter(|_, v| v.starts_with('/')).to("valid-clicks");
    clicks
        .select_key(|_, v| v.clone())
        .group_by_key_with(Grouped::named("by-page"))
        .count_with(Materialized::named("page-counts"))
        .to_stream()
        .to("page-counts");
}

/// The layout of Kafka Streams' `TopologyDescription`: sub-topology headers (the first
/// indented by three spaces, the others by two), nodes ordered by the size of what follows
/// them and then by name, `-->` successors and `<--` predecessors, a blank line after each
/// sub-topology.
const PAGE_COUNTS: &str = "\
Topologies:
   Sub-topology: 0
    Source: clicks-source (topics: [clicks])
      --> KSTREAM-FILTER-0000000001, KSTREAM-KEY-SELECT-0000000003
    Processor: KSTREAM-FILTER-0000000001 (stores: [])
      --> KSTREAM-SINK-0000000002
      <-- clicks-source
    Processor: KSTREAM-KEY-SELECT-0000000003 (stores: [])
      --> by-page-repartition-sink
      <-- clicks-source
    Sink: KSTREAM-SINK-0000000002 (topic: valid-clicks)
      <-- KSTREAM-FILTER-0000000001
    Sink: by-page-repartition-sink (topic: by-page-repartition)
      <-- KSTREAM-KEY-SELECT-0000000003

  Sub-topology: 1
    Source: by-page-repartition-source (topics: [by-page-repartition])
      --> KSTREAM-AGGREGATE-0000000006
    Processor: KSTREAM-AGGREGATE-0000000006 (stores: [page-counts])
      --> KTABLE-TOSTREAM-0000000007
      <-- by-page-repartition-source
    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-AGGREGATE-0000000006
    Sink: KSTREAM-SINK-0000000008 (topic: page-counts)
      <-- KTABLE-TOSTREAM-0000000007

";

#[test]
fn describe_matches_the_snapshot() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    page_counts(&builder);
    let topology = builder.build()?;
    assert_eq!(topology.describe(), PAGE_COUNTS);
    assert_eq!(format!("{topology:?}"), PAGE_COUNTS);
    let subs = topology.subtopologies();
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].source_topic_names(), ["clicks"]);
    assert_eq!(subs[1].source_topic_names(), ["by-page-repartition"]);
    assert_eq!(subs[1].store_names(), ["page-counts"]);
    assert_eq!(topology.source_topics(), ["clicks"]);
    Ok(())
}

#[test]
fn a_processor_with_a_user_store_lists_it() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let store = builder.add_key_value_store::<String, i64>(Materialized::named("seen"));
    builder.stream::<String, i64>("in").process_with(|| streamz_noop::Noop, &[store.as_str()]).to("out");
    let text = builder.build()?.describe();
    assert!(text.contains("    Processor: KSTREAM-PROCESSOR-0000000002 (stores: [seen])\n"), "{text}");
    Ok(())
}

mod streamz_noop {
    use streamz::prelude::*;
    use streamz::processor::{Processor, ProcessorContext};

    /// Forwards every record.
    pub(crate) struct Noop;

    impl Processor<String, i64, String, i64> for Noop {
        fn process(
            &mut self,
            r: Record<String, i64>,
            ctx: &mut ProcessorContext<'_, String, i64>,
        ) -> streamz::Result<()> {
            ctx.forward(r)
        }
    }
}

#[test]
fn a_duplicate_store_name_is_refused() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, i64>("in");
    stream.group_by_key().count_with(Materialized::named("counts"));
    stream.group_by_key().reduce_with(|a, b| a + b, Materialized::named("counts"));
    let err = builder.build().expect_err("two stores named `counts`");
    assert_eq!(err, TopologyError::DuplicateName { name: "counts".into(), what: "store" });
    assert_eq!(err.to_string(), "duplicate name `counts`: store names must be unique within a topology");
}

#[test]
fn a_duplicate_processor_name_is_refused() {
    let builder = StreamsBuilder::new();
    builder.stream_with::<String, i64>("a", Consumed::default().with_name("source")).to("out-a");
    builder.stream_with::<String, i64>("b", Consumed::default().with_name("source")).to("out-b");
    let err = builder.build().expect_err("two nodes named `source`");
    assert_eq!(err, TopologyError::DuplicateName { name: "source".into(), what: "processor" });
}

#[test]
fn a_duplicate_repartition_topic_is_refused() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, i64>("in");
    stream.repartition_with(Repartitioned::named("r")).to("x");
    stream.repartition_with(Repartitioned::named("r")).to("y");
    let err = builder.build().expect_err("two repartition topics named `r-repartition`");
    assert!(matches!(&err, TopologyError::DuplicateName { name, .. } if name == "r-repartition"), "{err:?}");
}

#[test]
fn explicit_naming_refuses_a_generated_store_name() {
    let builder = StreamsBuilder::new().require_explicit_names();
    builder.stream::<String, i64>("in").group_by_key().count();
    let err = builder.build().expect_err("the count store has a generated name");
    assert_eq!(err, TopologyError::UnnamedResource { operator: "KSTREAM-AGGREGATE-STATE-STORE-0000000001".into() });
    assert!(err.to_string().contains("`KSTREAM-AGGREGATE-STATE-STORE-0000000001` has no explicit name"), "{err}");
}

#[test]
fn explicit_naming_accepts_named_state() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new().require_explicit_names();
    builder
        .stream::<String, i64>("in")
        .select_key(|_, v| *v)
        .group_by_key_with(Grouped::named("by-value"))
        .count_with(Materialized::named("counts"));
    let topology = builder.build()?;
    assert!(topology.warnings().is_empty(), "{:?}", topology.warnings());
    Ok(())
}

#[test]
fn a_store_named_in_process_with_must_exist() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, i64>("in").process_with(|| streamz_noop::Noop, &["nowhere"]).to("out");
    let err = builder.build().expect_err("store `nowhere` does not exist");
    let TopologyError::Invalid { operator, reason } = &err else { panic!("{err:?}") };
    assert_eq!(operator, "KSTREAM-PROCESSOR-0000000001");
    assert!(reason.contains("store `nowhere`"), "{reason}");
    assert!(
        err.to_string().starts_with("invalid use of `KSTREAM-PROCESSOR-0000000001`: it uses store `nowhere`"),
        "{err}"
    );
}

#[test]
fn warnings_list_generated_state_names() -> anyhow::Result<()> {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, i64>("in");
    stream.group_by_key().count();
    stream.group_by_key().count_with(Materialized::named("named"));
    stream.repartition().to("out");
    let topology = builder.build()?;
    let warnings = topology.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("`KSTREAM-AGGREGATE-STATE-STORE-0000000001`"), "{}", warnings[0]);
    assert!(warnings[1].contains("`KSTREAM-REPARTITION-"), "{}", warnings[1]);
    assert!(!warnings.iter().any(|w| w.contains("`named`")), "{warnings:?}");
    Ok(())
}
