//! Store definitions for the DSL's stateful operators.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::serdes::{Data, SerdeRef};
use crate::state::{
    cached_key_value_store, cached_window_store, key_value_store, logged_key_value_store, logged_session_store,
    logged_window_store, session_store, window_store, CacheBudget, ChangeLogger, StoreBackend, StoreEnv,
};
use crate::task::StoreEntry;
use crate::time::millis;
use crate::topology::{StoreDef, StoreFactory, StoreKind};
use crate::Result;

struct KvFactory<K, V> {
    key_serde: SerdeRef<K>,
    backend: Option<StoreBackend>,
    _value: std::marker::PhantomData<fn() -> V>,
}

impl<K: Data, V: Data> StoreFactory for KvFactory<K, V> {
    fn create(
        &self,
        name: &str,
        env: &StoreEnv,
        logger: Option<ChangeLogger>,
        cache: Option<Arc<CacheBudget>>,
    ) -> Result<StoreEntry> {
        let backend = self.backend.unwrap_or(env.default_backend());
        let store = key_value_store::<K, V>(name, self.key_serde.clone(), backend, env)?;
        let entry = match logger {
            Some(logger) => logged_key_value_store(store, logger, self.key_serde.clone(), V::default_serde()),
            None => StoreEntry::new(Arc::new(Mutex::new(store))),
        };
        match cache {
            Some(budget) => cached_key_value_store(entry, name, budget, self.key_serde.clone(), V::default_serde()),
            None => Ok(entry),
        }
    }
}

/// A key-value store `name` of `K` → `V` in `backend` (the task's default when `None`); a
/// `logged` one writes its changes to its changelog
/// (values with `V`'s default serde).
pub(crate) fn kv_store<K: Data, V: Data>(
    name: &str,
    key_serde: SerdeRef<K>,
    backend: Option<StoreBackend>,
    logged: bool,
    global: bool,
) -> StoreDef {
    StoreDef {
        name: name.to_string(),
        kind: StoreKind::KeyValue,
        logged,
        retention_ms: None,
        global,
        cached: false,
        factory: Arc::new(KvFactory::<K, V> { key_serde, backend, _value: std::marker::PhantomData }),
    }
}

struct WindowFactory<K, V> {
    key_serde: SerdeRef<K>,
    backend: Option<StoreBackend>,
    retention: Duration,
    size: Duration,
    duplicates: bool,
    _value: std::marker::PhantomData<fn() -> V>,
}

impl<K: Data, V: Data> StoreFactory for WindowFactory<K, V> {
    fn create(
        &self,
        name: &str,
        env: &StoreEnv,
        logger: Option<ChangeLogger>,
        cache: Option<Arc<CacheBudget>>,
    ) -> Result<StoreEntry> {
        let backend = self.backend.unwrap_or(env.default_backend());
        let store = window_store::<K, V>(
            name,
            self.key_serde.clone(),
            self.retention,
            self.size,
            self.duplicates,
            backend,
            env,
        )?;
        let entry = match logger {
            Some(logger) => {
                logged_window_store(store, logger, self.key_serde.clone(), V::default_serde(), self.duplicates)
            }
            None => StoreEntry::new(Arc::new(Mutex::new(store))),
        };
        match cache {
            Some(budget) if !self.duplicates => {
                cached_window_store(entry, name, budget, self.key_serde.clone(), V::default_serde())
            }
            _ => Ok(entry),
        }
    }
}

/// A window store `name` of `K` → `V` retaining windows for `retention`; a `logged` one writes
/// its changes to its changelog.
pub(crate) fn window_store_def<K: Data, V: Data>(
    name: &str,
    key_serde: SerdeRef<K>,
    backend: Option<StoreBackend>,
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
        cached: false,
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
    backend: Option<StoreBackend>,
    retention: Duration,
    _value: std::marker::PhantomData<fn() -> V>,
}

impl<K: Data, V: Data> StoreFactory for SessionFactory<K, V> {
    fn create(
        &self,
        name: &str,
        env: &StoreEnv,
        logger: Option<ChangeLogger>,
        _cache: Option<Arc<CacheBudget>>,
    ) -> Result<StoreEntry> {
        let backend = self.backend.unwrap_or(env.default_backend());
        let store = session_store::<K, V>(name, self.key_serde.clone(), self.retention, backend, env)?;
        Ok(match logger {
            Some(logger) => logged_session_store(store, logger, self.key_serde.clone(), V::default_serde()),
            None => StoreEntry::new(Arc::new(Mutex::new(store))),
        })
    }
}

/// A session store `name` of `K` → `V` retaining sessions for `retention`; a `logged` one
/// writes its changes to its changelog.
pub(crate) fn session_store_def<K: Data, V: Data>(
    name: &str,
    key_serde: SerdeRef<K>,
    backend: Option<StoreBackend>,
    logged: bool,
    retention: Duration,
) -> StoreDef {
    StoreDef {
        name: name.to_string(),
        kind: StoreKind::Session,
        logged,
        retention_ms: Some(millis(retention)),
        global: false,
        cached: false,
        factory: Arc::new(SessionFactory::<K, V> { key_serde, backend, retention, _value: std::marker::PhantomData }),
    }
}
