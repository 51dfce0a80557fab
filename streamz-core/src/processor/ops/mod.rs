//! Built-in operators, one file each.

pub(crate) mod aggregate;
pub(crate) mod cached;
pub(crate) mod fn_processor;
pub(crate) mod materialize_table;
pub(crate) mod session_aggregate;
pub(crate) mod sink;
pub(crate) mod sliding_aggregate;
pub(crate) mod source;
pub(crate) mod stream_stream_join;
pub(crate) mod stream_table_join;
pub(crate) mod suppress;
mod suppress_codec;
pub(crate) mod table_aggregate;
pub(crate) mod table_group_map;
pub(crate) mod table_source;
pub(crate) mod table_table_join;
pub(crate) mod table_values;
pub(crate) mod window_aggregate;

pub(crate) use fn_processor::FnProcessor;
