//! streamz-core: the library behind the `streamz` crate.
//!
//! See the `streamz` crate for the guide.

pub mod error;
pub mod record;
pub mod serdes;
pub mod state;
pub mod time;

pub use error::{Result, StreamsError, TopologyError};
pub use record::{Change, Headers, RawRecord, Record};
pub use serdes::{Data, Serde, SerdeRef};
pub use time::{Timestamp, Window, Windowed};
