//! Options of stream-stream joins: [`StreamJoined`].

use crate::serdes::SerdeRef;

/// How a stream-stream join is named and stored.
///
/// The name (`named`) names the join's processors and repartition topics
/// (`<name>-left-repartition`, `<name>-right-repartition`); the store name (`with_store_name`,
/// else the name) prefixes its stores: `<store>-this-join-store` and `<store>-other-join-store`
/// (the windowed buffers of the left and right records), `<store>-left-held-store` /
/// `<store>-right-held-store` (unmatched records a left/outer join holds until their window
/// closes) and `<store>-join-time-store` (the join's shared stream time). Without either, the
/// names are generated (`KSTREAM-JOIN-<n>`) and may change when operators are added.
pub struct StreamJoined<K, V, VO> {
    pub(crate) name: Option<String>,
    pub(crate) store_name: Option<String>,
    pub(crate) key_serde: Option<SerdeRef<K>>,
    pub(crate) value_serde: Option<SerdeRef<V>>,
    pub(crate) other_value_serde: Option<SerdeRef<VO>>,
    pub(crate) logging: bool,
}

impl<K, V, VO> std::fmt::Debug for StreamJoined<K, V, VO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamJoined")
            .field("name", &self.name)
            .field("store_name", &self.store_name)
            .field("logging", &self.logging)
            .finish_non_exhaustive()
    }
}

impl<K, V, VO> Default for StreamJoined<K, V, VO> {
    fn default() -> Self {
        StreamJoined {
            name: None,
            store_name: None,
            key_serde: None,
            value_serde: None,
            other_value_serde: None,
            logging: true,
        }
    }
}

impl<K, V, VO> StreamJoined<K, V, VO> {
    /// Names the join (its processors, repartition topics and, unless
    /// [`StreamJoined::with_store_name`] is given, its stores).
    pub fn named(name: impl Into<String>) -> Self {
        StreamJoined { name: Some(name.into()), ..Self::default() }
    }

    /// Prefixes the join's stores with `name`.
    pub fn with_store_name(mut self, name: impl Into<String>) -> Self {
        self.store_name = Some(name.into());
        self
    }

    /// The key serde of the stores and repartition topics (else the left stream's).
    pub fn with_key_serde(mut self, serde: SerdeRef<K>) -> Self {
        self.key_serde = Some(serde);
        self
    }

    /// The value serdes of the left and right repartition topics (else the streams' own).
    pub fn with_value_serdes(mut self, this: SerdeRef<V>, other: SerdeRef<VO>) -> Self {
        self.value_serde = Some(this);
        self.other_value_serde = Some(other);
        self
    }

    /// Keeps the join's stores without changelog topics.
    pub fn without_logging(mut self) -> Self {
        self.logging = false;
        self
    }
}
