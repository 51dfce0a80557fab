//! Running the same store tests on every backend.

use std::time::Duration;

use super::{
    key_value_store, session_store, window_store, InMemorySessionStore, InMemoryWindowStore, KeyValueStore,
    SessionStore, StoreBackend, StoreEnv, WindowStore,
};
#[cfg(feature = "rocksdb")]
use super::{RocksDbMemory, RocksDbSessionStore, RocksDbWindowStore};
use crate::serdes::{Data, SerdeRef};

/// Stores of one backend, in a temporary directory removed when the fixture is dropped
/// (after the stores a test made from it).
pub(crate) struct Fixture {
    pub(crate) backend: StoreBackend,
    pub(crate) env: StoreEnv,
    _dir: tempfile::TempDir,
}

impl Fixture {
    pub(crate) fn new(backend: StoreBackend) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let env = StoreEnv::new(dir.path());
        #[cfg(feature = "rocksdb")]
        let env = env.with_memory(RocksDbMemory::new(8 << 20));
        Fixture { backend, env, _dir: dir }
    }

    pub(crate) fn kv<K: Data, V: Data>(&self, name: &str, key_serde: SerdeRef<K>) -> Box<dyn KeyValueStore<K, V>> {
        key_value_store(name, key_serde, self.backend, &self.env).expect("a key-value store")
    }

    pub(crate) fn window<K: Data, V: Data>(
        &self,
        name: &str,
        key_serde: SerdeRef<K>,
        retention: Duration,
        size: Duration,
        dups: bool,
    ) -> Box<dyn WindowStore<K, V>> {
        window_store(name, key_serde, retention, size, dups, self.backend, &self.env).expect("a window store")
    }

    pub(crate) fn session<K: Data, V: Data>(
        &self,
        name: &str,
        key_serde: SerdeRef<K>,
        retention: Duration,
    ) -> Box<dyn SessionStore<K, V>> {
        session_store(name, key_serde, retention, self.backend, &self.env).expect("a session store")
    }

    /// Whether removing the last entry of a segment frees the segment (in memory only: a
    /// RocksDB segment is a column family, kept until it expires).
    pub(crate) fn frees_empty_segments(&self) -> bool {
        self.backend == StoreBackend::InMemory
    }
}

/// `(entries, segments, observed stream time)` of a window store of either backend.
pub(crate) fn window_stats<K: Data, V: Data>(store: &dyn WindowStore<K, V>) -> (usize, usize, i64) {
    if let Some(s) = store.as_any().downcast_ref::<InMemoryWindowStore<K, V>>() {
        return (s.len(), s.segment_count(), s.observed_stream_time().0);
    }
    #[cfg(feature = "rocksdb")]
    if let Some(s) = store.as_any().downcast_ref::<RocksDbWindowStore<K, V>>() {
        return (s.len(), s.segment_count(), s.observed_stream_time().0);
    }
    panic!("a window store of an unknown backend")
}

/// `(sessions, segments, observed stream time)` of a session store of either backend.
pub(crate) fn session_stats<K: Data, V: Data>(store: &dyn SessionStore<K, V>) -> (usize, usize, i64) {
    if let Some(s) = store.as_any().downcast_ref::<InMemorySessionStore<K, V>>() {
        return (s.len(), s.segment_count(), s.observed_stream_time().0);
    }
    #[cfg(feature = "rocksdb")]
    if let Some(s) = store.as_any().downcast_ref::<RocksDbSessionStore<K, V>>() {
        return (s.len(), s.segment_count(), s.observed_stream_time().0);
    }
    panic!("a session store of an unknown backend")
}

/// Generates `in_memory::<test>` and `rocksdb::<test>` for each `fn <test>(&Fixture)`.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod in_memory {
            $(
                #[test]
                fn $name() {
                    super::$name(&crate::state::test_backends::Fixture::new(crate::state::StoreBackend::InMemory));
                }
            )*
        }
        #[cfg(feature = "rocksdb")]
        mod rocksdb {
            $(
                #[test]
                fn $name() {
                    super::$name(&crate::state::test_backends::Fixture::new(crate::state::StoreBackend::RocksDb));
                }
            )*
        }
    };
}
pub(crate) use on_every_backend;
