//! RocksDB backends of the store traits, sharing one bounded block cache and write buffer
//! manager ([`RocksDbMemory`]).

mod batch;
mod kv;
mod pending;
mod segmented;
mod session;
mod shared;
mod window;

pub use kv::RocksDbKeyValueStore;
pub use session::RocksDbSessionStore;
pub use shared::RocksDbMemory;
pub use window::RocksDbWindowStore;
