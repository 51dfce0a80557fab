//! streamz-core: the library behind the `streamz` crate.
//!
//! See the `streamz` crate for the guide.
//!
//! Features (both on by default): `kafka`, the runtime that runs topologies on a cluster
//! (modules `kafka` and `runtime`, built on librdkafka), and `rocksdb`, RocksDB stores. Without
//! them the crate is the DSL, the in-memory stores and the test driver, with no C or C++ to
//! build.

// Without the runtime, what only the runtime uses (restores, standbys, changelog offsets) is
// unused.
#![cfg_attr(not(feature = "kafka"), allow(dead_code, unused_imports))]

pub mod dsl;
pub mod error;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod processor;
pub mod record;
#[cfg(feature = "kafka")]
pub mod runtime;
pub mod serdes;
pub mod state;
pub mod task;
pub mod testing;
pub mod time;
pub mod topology;

pub use error::{Result, StreamsError, TopologyError};
pub use record::{Change, Headers, RawRecord, Record, Timestamped};
pub use serdes::{Data, Serde, SerdeRef};
pub use time::{Timestamp, Window, Windowed};

/// The names most topologies need: `use streamz::prelude::*;`.
pub mod prelude {
    pub use crate::dsl::{
        BufferConfig, Consumed, GlobalTable, Grouped, GroupedStream, GroupedTable, JoinWindows, Materialized, Produced,
        Repartitioned, SessionWindowedStream, SessionWindows, SlidingWindows, Stream, StreamJoined, StreamsBuilder,
        Suppressed, Table, TimeWindowedStream, TimeWindows, TimestampExtractor, WindowSpec,
    };
    pub use crate::record::{Change, Record};
    pub use crate::serdes::{Bincode, Data, Json};
    pub use crate::task::{ErrorPolicy, ProductionErrorPolicy, TimestampPolicy};
    pub use crate::testing::{DriverConfig, TopologyTestDriver};
    pub use crate::time::{Timestamp, Window, Windowed};
    pub use crate::{StreamsError, TopologyError};
}
