//! `GlobalTable<K, V>`: a table every task holds in full.

use std::marker::PhantomData;

use crate::serdes::SerdeRef;

/// A table read from all partitions of its topic by every instance; stream records join it
/// by a key computed from the record, with no co-partitioning.
#[doc(alias = "GlobalKTable")]
pub struct GlobalTable<K, V> {
    pub(crate) store: String,
    pub(crate) key_serde: SerdeRef<K>,
    pub(crate) _value: PhantomData<fn() -> V>,
}

impl<K, V> Clone for GlobalTable<K, V> {
    fn clone(&self) -> Self {
        GlobalTable { store: self.store.clone(), key_serde: self.key_serde.clone(), _value: PhantomData }
    }
}

impl<K, V> std::fmt::Debug for GlobalTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalTable").field("store", &self.store).finish()
    }
}

impl<K, V> GlobalTable<K, V> {
    /// The name of the store holding the table.
    pub fn store_name(&self) -> &str {
        &self.store
    }
}
