//! Serdes: how typed keys and values become bytes at topic and store boundaries.
//!
//! Every type that flows through a topology implements [`Data`], which names its default
//! [`Serde`]. Sources, sinks and stores may override it (`Consumed::with`, `Produced::with`,
//! `Materialized::with`). Nullness is part of the type: `Option<T>` and `()` decode a null
//! (absent) key or value; a non-optional type fails to decode one.

use std::fmt;
use std::sync::Arc;

use crate::error::SerdeError;
use crate::time::Timestamp;

/// Encodes and decodes values of type `T`.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{Data, Serde};
///
/// let serde = String::default_serde();
/// let mut buf = Vec::new();
/// assert!(serde.serialize(&"hi".to_string(), &mut buf).unwrap());
/// assert_eq!(buf, b"hi");
/// assert_eq!(serde.deserialize(Some(b"hi")).unwrap(), "hi");
/// ```
pub trait Serde<T>: Send + Sync + 'static {
    /// A short name of the codec, used in error messages (`json`, `utf-8`, `i64`, ...).
    fn name(&self) -> &'static str;

    /// Appends the encoding of `value` to `out`. Returns `Ok(false)` when `value` is null: then
    /// nothing is written and the record carries a null key or value.
    fn serialize(&self, value: &T, out: &mut Vec<u8>) -> Result<bool, SerdeError>;

    /// Decodes a value; `None` is a null key or value.
    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<T, SerdeError>;
}

/// A shared serde.
pub type SerdeRef<T> = Arc<dyn Serde<T>>;

/// Encodes `value` into fresh bytes; `None` for a null value.
pub fn to_bytes<T: 'static>(
    serde: &dyn Serde<T>,
    value: &T,
) -> Result<Option<Vec<u8>>, SerdeError> {
    let mut out = Vec::new();
    Ok(serde.serialize(value, &mut out)?.then_some(out))
}

/// A type that can flow through a topology: cloneable, thread-safe, printable, with a default
/// serde.
///
/// Implemented for strings, raw bytes (`Vec<u8>`), integers and floats (big-endian, as Kafka's
/// own serdes), `bool`, `()` (always null), `Option<T>` (null is `None`), tuples, [`Windowed`],
/// and [`Json`]/[`Bincode`] wrappers for any serde type. Derive it for your own types with
/// `#[derive(streamz::Data)]`.
///
/// [`Windowed`]: crate::time::Windowed
pub trait Data: Clone + Send + Sync + fmt::Debug + 'static {
    /// The serde used when none is given.
    fn default_serde() -> SerdeRef<Self>;

    /// Whether this value is null (`None`, `()`): null keys and values follow Kafka Streams'
    /// null rules (e.g. aggregations skip null keys).
    fn is_null(&self) -> bool {
        false
    }

    /// The event time carried in the value, for the field timestamp extractor
    /// (`#[streamz(timestamp)]` in the derive). `None` when the type carries none.
    fn event_time(&self) -> Option<Timestamp> {
        None
    }
}
