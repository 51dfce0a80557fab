//! Store definitions for the DSL's stateful operators.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::serdes::SerdeRef;
use crate::state::{key_value_store, session_store, window_store, StoreBackend};
use crate::task::StoreEntry;
use crate::time::millis;
use crate::topology::{StoreDef, StoreFactory, StoreKind};
use crate::Result;

struct KvFactory<K, V> {
    key_serde: SerdeRef<K>,
    backend: StoreBackend,
    _value: std::marker::PhantomData<fn() -> V>,
}

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> StoreFactory for KvFactory<K, V> {
    fn create(&self, name: &str, _partition: i32) -> Result<StoreEntry> {
        let store = key_value_store::<K, V>(name, self.key_serde.clone(), self.backend);
        Ok(StoreEntry::new(Arc::new(Mutex::new(store))))
    }
}

/// A key-value store `name` of `K` → `V`.
pub(crate) fn kv_store<K: Clone + Send + 'static, V: Clone + Send + 'static>(
    name: &str,
    key_serde: SerdeRef<K>,
    backend: StoreBackend,
    logged: bool,
    global: bool,
) -> StoreDef {
    StoreDef {
        name: name.to_string(),
        kind: StoreKind::KeyValue,
        logged,
        retention_ms: None,
        global,
        factory: Arc::new(KvFactory::<K, V> { key_serde, backend, _value: std::marker::PhantomData }),
    }
}

struct WindowFactory<K, V> {
    key_serde: SerdeRef<K>,
    backend: StoreBackend,
    retention: Duration,
    size: Duration,
    duplicates: bool,
    _value: std::marker::PhantomData<fn() -> V>,
}

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> StoreFactory for WindowFactory<K, V> {
    fn create(&self, name: &str, _partition: i32) -> Result<StoreEntry> {
        let store = window_store::<K, V>(
            name,
            self.key_serde.clone(),
            self.retention,
            self.size,
            self.duplicates,
            self.backend,
        );
        Ok(StoreEntry::new(Arc::new(Mutex::new(store))))
    }
}

/// A window store `name` of `K` → `V` retaining windows for `retention`.
pub(crate) fn window_store_def<K: Clone + Send + 'static, V: Clone + Send + 'static>(
    name: &str,
    key_serde: SerdeRef<K>,
    backend: StoreBackend,
    logged: bool,
    retention: Duration,
    size: Duration,
    duplicates: bool,
) -> StoreDef {
    StoreDef {
        name: name.to_string(),
        kind: StoreKind::Window,
        logged,
        retention_ms: Some(millis(retention)),
        global: false,
        factory: Arc::new(WindowFactory::<K, V> {
            key_serde,
            backend,
            retention,
            size,
            duplicates,
            _value: std::marker::PhantomData,
        }),
    }
}

struct SessionFactory<K, V> {
    key_serde: SerdeRef<K>,
    backend: StoreBackend,
    retention: Duration,
    _value: std::marker::PhantomData<fn() -> V>,
}

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> StoreFactory for SessionFactory<K, V> {
    fn create(&self, name: &str, _partition: i32) -> Result<StoreEntry> {
        let store = session_store::<K, V>(name, self.key_serde.clone(), self.retention, self.backend);
        Ok(StoreEntry::new(Arc::new(Mutex::new(store))))
    }
}

/// A session store `name` of `K` → `V` retaining sessions for `retention`.
pub(crate) fn session_store_def<K: Clone + Send + 'static, V: Clone + Send + 'static>(
    name: &str,
    key_serde: SerdeRef<K>,
    backend: StoreBackend,
    logged: bool,
    retention: Duration,
) -> StoreDef {
    StoreDef {
        name: name.to_string(),
        kind: StoreKind::Session,
        logged,
        retention_ms: Some(millis(retention)),
        global: false,
        factory: Arc::new(SessionFactory::<K, V> { key_serde, backend, retention, _value: std::marker::PhantomData }),
    }
}
