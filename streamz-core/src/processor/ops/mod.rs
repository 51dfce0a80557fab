//! Built-in operators, one file each.

pub(crate) mod aggregate;
pub(crate) mod fn_processor;
pub(crate) mod sink;
pub(crate) mod source;
pub(crate) mod suppress;
pub(crate) mod table_aggregate;
pub(crate) mod table_group_map;
pub(crate) mod table_source;
pub(crate) mod table_values;

pub(crate) use fn_processor::FnProcessor;
