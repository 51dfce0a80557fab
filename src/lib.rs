//! # streamz
//!
//! Stream processing on Apache Kafka in the style of Kafka Streams, with a typed DSL.
//!
//! An application is an ordinary Rust program: it reads topics, transforms and aggregates
//! records with the DSL, keeps keyed state in local stores backed up to Kafka changelog
//! topics, and writes results back to topics. Scaling out is running more copies of the
//! program with the same application id: Kafka's consumer group spreads the input partitions,
//! and with them the tasks and their state, over the running instances.
//!
//! ```
//! use streamz::prelude::*;
//!
//! // Count the words of a stream of lines.
//! let builder = StreamsBuilder::new();
//! builder
//!     .stream::<(), String>("lines")
//!     .flat_map_values(|line| line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>())
//!     .select_key(|_, word| word.clone())
//!     .group_by_key()
//!     .count_with(Materialized::named("word-counts"))
//!     .to_stream()
//!     .to("counts");
//! let topology = builder.build()?;
//!
//! // Test it without a broker.
//! let driver = TopologyTestDriver::new(topology)?;
//! driver.input::<(), String>("lines").pipe((), "to be or not to be".into(), 0)?;
//! let counts = driver.output::<String, Option<i64>>("counts").read_key_values();
//! assert_eq!(counts.last(), Some(&("be".to_string(), Some(2))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Concepts
//!
//! - A [`Stream<K, V>`](dsl::Stream) is a sequence of independent events; a
//!   [`Table<K, V>`](dsl::Table) holds one current value per key, and its updates travel as
//!   [`Change`]s of old and new value. Each stage of the DSL is its own type
//!   ([`GroupedStream`](dsl::GroupedStream), windowed streams, [`GlobalTable`](dsl::GlobalTable)),
//!   so misuse — windowing an ungrouped stream, say — fails to compile.
//! - Every key and value type implements [`Data`]: cloneable, thread-safe, with a default
//!   [`Serde`]. Nullness is part of the type: a topic whose keys may be absent is read with a
//!   key type of `Option<K>` or `()`, a table's stream of updates is a stream of `Option<V>`.
//!   Derive `Data` for your own types with `#[derive(streamz::Data)]` (JSON by default).
//! - [`StreamsBuilder::build`](dsl::StreamsBuilder::build) compiles the DSL into a
//!   [`Topology`](topology::Topology): sub-topologies split at repartition topics, each run as
//!   one task per input partition. [`Topology::describe`](topology::Topology::describe) prints
//!   it in the layout of Kafka Streams' `describe()`.
//! - Inside a sub-topology records travel as typed values: nothing is serialised between
//!   operators, only at sinks, repartition topics and changelogs.
//! - [`TopologyTestDriver`](testing::TopologyTestDriver) runs a topology in-process,
//!   deterministically, with the same processors and stores as an application — with several
//!   partitions per topic and real repartitioning.
//!
//! ## Kafka Streams names
//!
//! | Kafka Streams (Java)                  | streamz                                          |
//! |---------------------------------------|--------------------------------------------------|
//! | `StreamsBuilder`                      | [`StreamsBuilder`](dsl::StreamsBuilder)          |
//! | `KStream<K, V>`                       | [`Stream<K, V>`](dsl::Stream)                    |
//! | `KTable<K, V>`                        | [`Table<K, V>`](dsl::Table)                      |
//! | `GlobalKTable<K, V>`                  | [`GlobalTable<K, V>`](dsl::GlobalTable)          |
//! | `KGroupedStream`, `KGroupedTable`     | [`GroupedStream`](dsl::GroupedStream), `GroupedTable` |
//! | `TimeWindowedKStream`, `SessionWindowedKStream` | `TimeWindowedStream`, `SessionWindowedStream` |
//! | `Windowed<K>`                         | [`Windowed<K>`]                                  |
//! | `filter`, `mapValues`, `selectKey`, `flatMap`, ... | `filter`, `map_values`, `select_key`, `flat_map`, ... |
//! | `split().branch(..).defaultBranch()`  | `split().branch(..).default_branch()`            |
//! | `groupByKey().windowedBy(..).count()` | `group_by_key().windowed_by(..).count()`         |
//! | `Materialized.as("name")`             | [`Materialized::named("name")`](dsl::Materialized::named) |
//! | `Grouped.as("name")`                  | [`Grouped::named("name")`](dsl::Grouped::named)  |
//! | `Consumed.with(k, v)`, `Produced.with(k, v)` | [`Consumed::with`](dsl::Consumed::with), [`Produced::with`](dsl::Produced::with) |
//! | `Serdes.String()`, `Serdes.Long()`    | [`serdes::StringSerde`], [`serdes::I64Serde`] (defaults of `String`, `i64`) |
//! | `Processor<KIn, VIn, KOut, VOut>`     | [`processor::Processor`]                         |
//! | `TopologyTestDriver`                  | [`testing::TopologyTestDriver`]                  |
//! | `KafkaStreams`, `StreamsConfig`       | [`runtime::App`] / [`runtime::RunningApp`], [`runtime::StreamsConfig`] |
//! | `KafkaStreams.State`, `StateListener` | [`runtime::AppState`], [`App::with_state_listener`](runtime::App::with_state_listener) |
//!
//! ## Running on Kafka
//!
//! [`App::new(topology, config)?.start()?`](runtime::App) joins the application's consumer
//! group (the application id), creates its internal topics, and runs the topology on
//! `num_stream_threads` threads: each thread polls its assigned partitions in batches,
//! processes each task's records in timestamp order, punctuates, and commits every
//! `commit_interval`. With no bootstrap servers configured (and `$STREAMZ_BOOTSTRAP` unset) it
//! runs on an in-process [`EmbeddedCluster`](kafka::EmbeddedCluster), for demos.
//!
//! ## Delivery guarantees
//!
//! At-least-once: a commit flushes the stores, waits until every record produced so far (to
//! output, repartition and changelog topics) is acknowledged, and only then commits the input
//! offsets. After a crash the uncommitted input is processed again, so outputs may repeat but
//! are never lost. Under exactly-once
//! ([`ProcessingGuarantee::ExactlyOnce`](runtime::ProcessingGuarantee)) each stream thread's
//! outputs, changelog writes and input offsets commit in one Kafka transaction; readers with
//! `read_committed` see every result exactly once, across crashes and rebalances.
//!
//! ## Semantics
//!
//! A Kafka Streams topology ported to streamz gives the same output for the same input:
//! keys, values, timestamps and order. Where Kafka Streams' own output is inconsistent,
//! streamz does the consistent thing; [`guide::semantics`] lists every such difference.
//!
//! ## Guide
//!
//! - [`guide::testing`]: testing topologies with the test driver.
//! - [`guide::running`]: running on Kafka: configuration, start checks, commits, rebalancing,
//!   states, shutdown.
//! - [`guide::bad_input`]: what happens to records that do not decode, fail or cannot be written.
//! - [`guide::semantics`]: the rules streamz follows and its deliberate differences from
//!   Kafka Streams.

pub use streamz_core::*;
pub use streamz_macros::*;

pub mod guide;
