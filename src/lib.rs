//! streamz: stream processing on Apache Kafka in the style of Kafka Streams.

pub use streamz_core::*;
pub use streamz_macros::*;
