//! The typed DSL: [`StreamsBuilder`], [`Stream`], [`GroupedStream`], [`TimeWindowedStream`],
//! [`SessionWindowedStream`], [`Table`], [`GlobalTable`] and their options.
//!
//! Every call appends a node to the logical graph and returns a new typed handle; each stage
//! has its own type, so e.g. windowing an ungrouped stream does not compile.

mod builder;
mod global;
mod grouped;
mod grouped_table;
mod join_options;
pub(crate) mod materialize;
mod options;
mod process;
mod session_windowed;
mod split;
mod stream;
mod stream_join;
mod stream_table_join;
mod stream_try;
mod suppress;
mod table;
mod table_join;
mod table_ops;
mod table_source;
mod windowed;
mod windows;

pub use builder::StreamsBuilder;
pub use global::GlobalTable;
pub use grouped::GroupedStream;
pub use grouped_table::GroupedTable;
pub use join_options::StreamJoined;
pub use options::{Consumed, Grouped, Materialized, Produced, Repartitioned, TimestampExtractor};
pub use session_windowed::SessionWindowedStream;
pub use split::Split;
pub use stream::Stream;
pub use suppress::{BufferConfig, BufferFull, Suppressed};
pub use table::Table;
pub use windowed::{TimeWindowedStream, WindowSpec};
pub(crate) use windows::WindowClose;
pub use windows::{JoinWindows, SessionWindows, SlidingWindows, TimeWindows};
