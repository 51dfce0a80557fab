//! Key encoding with a reusable buffer, so that lookups do not allocate.

use std::cell::RefCell;

use crate::serdes::SerdeRef;

/// A store's key serde and a scratch buffer for encoding lookup keys.
///
/// `RefCell` keeps the owning store `Send` (not `Sync`): a store is used by one task at a time.
pub(crate) struct KeyBuf<K> {
    store: String,
    serde: SerdeRef<K>,
    scratch: RefCell<Vec<u8>>,
}

impl<K> KeyBuf<K> {
    pub(crate) fn new(store: String, serde: SerdeRef<K>) -> Self {
        KeyBuf { store, serde, scratch: RefCell::new(Vec::with_capacity(64)) }
    }

    /// The name of the store the keys belong to.
    pub(crate) fn store(&self) -> &str {
        &self.store
    }
}

impl<K: 'static> KeyBuf<K> {
    /// Calls `f` with the encoding of `key`.
    ///
    /// `f` must not encode another key through the same buffer.
    pub(crate) fn with<R>(&self, key: &K, f: impl FnOnce(&[u8]) -> R) -> R {
        let mut buf = self.scratch.borrow_mut();
        buf.clear();
        self.encode(key, &mut buf);
        f(&buf)
    }

    /// Calls `f` with the encodings of `a` and `b`.
    pub(crate) fn with_pair<R>(&self, a: &K, b: &K, f: impl FnOnce(&[u8], &[u8]) -> R) -> R {
        let mut buf = self.scratch.borrow_mut();
        buf.clear();
        self.encode(a, &mut buf);
        let split = buf.len();
        self.encode(b, &mut buf);
        let (a, b) = buf.split_at(split);
        f(a, b)
    }

    fn encode(&self, key: &K, out: &mut Vec<u8>) {
        match self.serde.serialize(key, out) {
            Ok(true) => {}
            Ok(false) => {
                panic!("state store `{}` got a null key: operators must skip null keys before a store", self.store)
            }
            Err(e) => panic!("state store `{}` cannot serialize a key: {e}", self.store),
        }
    }
}
