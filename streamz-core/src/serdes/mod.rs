//! Serdes: how typed keys and values become bytes at topic and store boundaries.
//!
//! Every type that flows through a topology implements [`Data`], which names its default
//! [`Serde`]. Sources, sinks and stores may override it (`Consumed::with`, `Produced::with`,
//! `Materialized::with`). Nullness is part of the type: `Option<T>` and `()` decode a null
//! (absent) key or value; a non-optional type fails to decode one.
//!
//! | Rust type | Default serde | Kafka (Java) equivalent |
//! |---|---|---|
//! | `String` | [`StringSerde`] (UTF-8) | `Serdes.String()` |
//! | `Vec<u8>` | [`BytesSerde`] | `Serdes.ByteArray()` |
//! | `i16`, `i32`, `i64` | [`I16Serde`], [`I32Serde`], [`I64Serde`] (big-endian) | `Serdes.Short()`, `Integer()`, `Long()` |
//! | `f32`, `f64` | [`F32Serde`], [`F64Serde`] (big-endian IEEE 754) | `Serdes.Float()`, `Double()` |
//! | `i8`, `u8`, `u16`, `u32`, `u64` | [`I8Serde`], [`U8Serde`], ... (big-endian) | — |
//! | `bool` | [`BoolSerde`] (one byte, 0 or 1) | `Serdes.Boolean()` |
//! | `()` | [`UnitSerde`] (always null) | `Serdes.Void()` |
//! | `Option<T>` | [`OptionSerde`] (`None` is null) | a nullable Java type |
//! | `(A, B)` .. `(A, B, C, D)` | [`Tuple2Serde`] .. [`Tuple4Serde`] (length-prefixed) | — |
//! | [`Windowed<K>`] | [`WindowedSerde`] (key, start, end) | `WindowedSerdes` (layout differs) |
//! | [`Timestamped<V>`] | [`TimestampedSerde`] (8-byte timestamp, value) | `ValueAndTimestampSerde` |
//! | [`Json<T>`], `#[derive(Data)]` | [`JsonSerde`] | a JSON serde |
//! | [`Bincode<T>`], `#[derive(Data)]` + `#[streamz(codec = "bincode")]` | [`BincodeSerde`] | — |
//!
//! [`Windowed<K>`]: crate::time::Windowed
//! [`Timestamped<V>`]: crate::record::Timestamped

use std::fmt;
use std::sync::Arc;

use crate::error::SerdeError;
use crate::time::Timestamp;

mod bincode;
mod bytes;
mod json;
mod number;
mod option;
mod scalar;
mod string;
mod timestamp;
mod timestamped;
mod tuple;
mod windowed;

#[cfg(test)]
mod proptests;

pub use self::bincode::{Bincode, BincodeSerde};
pub use self::bytes::BytesSerde;
pub use self::json::{Json, JsonSerde};
pub use self::number::{
    F32Serde, F64Serde, I16Serde, I32Serde, I64Serde, I8Serde, U16Serde, U32Serde, U64Serde, U8Serde,
};
pub use self::option::OptionSerde;
pub use self::scalar::{BoolSerde, UnitSerde};
pub use self::string::StringSerde;
pub use self::timestamped::TimestampedSerde;
pub use self::tuple::{Tuple2Serde, Tuple3Serde, Tuple4Serde};
pub use self::windowed::WindowedSerde;

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
pub fn to_bytes<T: 'static>(serde: &dyn Serde<T>, value: &T) -> Result<Option<Vec<u8>>, SerdeError> {
    let mut out = Vec::new();
    Ok(serde.serialize(value, &mut out)?.then_some(out))
}

/// The bytes of a key or value that must not be null.
///
/// For codecs of non-nullable types: a null (`None`) becomes a [`SerdeError`] of `codec` that
/// names the type `T` and suggests `Option<T>`.
///
/// # Errors
///
/// When `bytes` is `None`.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::require_bytes;
///
/// assert_eq!(require_bytes::<u32>("u32", Some(b"abcd")).unwrap(), b"abcd");
/// let err = require_bytes::<u32>("u32", None).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "u32: got a null key or value but `u32` is not nullable (use `Option<u32>` to accept nulls)"
/// );
/// ```
pub fn require_bytes<'a, T: ?Sized>(codec: &'static str, bytes: Option<&'a [u8]>) -> Result<&'a [u8], SerdeError> {
    bytes.ok_or_else(|| {
        let ty = short_type_name(std::any::type_name::<T>());
        SerdeError::new(
            codec,
            format!(
                "got a null key or value but `{ty}` is not nullable \
                 (use `Option<{ty}>` to accept nulls)"
            ),
        )
    })
}

/// A type that a field marked `#[streamz(timestamp)]` (in `#[derive(Data)]`) may have: the
/// event time in milliseconds, as `i64` or [`Timestamp`].
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::EventTimeField;
/// use streamz_core::Timestamp;
///
/// assert_eq!(5i64.event_time(), Timestamp::from_millis(5));
/// ```
#[diagnostic::on_unimplemented(
    message = "a `#[streamz(timestamp)]` field must be an `i64` or a `Timestamp`, not `{Self}`",
    label = "the event time must be `i64` milliseconds or a `Timestamp`"
)]
pub trait EventTimeField {
    /// The field's value as a timestamp.
    fn event_time(&self) -> Timestamp;
}

impl EventTimeField for i64 {
    fn event_time(&self) -> Timestamp {
        Timestamp::from_millis(*self)
    }
}

impl EventTimeField for Timestamp {
    fn event_time(&self) -> Timestamp {
        *self
    }
}

/// `alloc::vec::Vec<my_app::Trade>` → `Vec<Trade>`: the last segment of every path.
fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (i, c) in full.char_indices() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            if c == ':' {
                segment_start = i + 1;
            }
            continue;
        }
        out.push_str(&full[segment_start..i]);
        out.push(c);
        segment_start = i + c.len_utf8();
    }
    out.push_str(&full[segment_start..]);
    out
}

/// Checks that a fixed-size encoding has exactly `N` bytes.
fn fixed<const N: usize>(codec: &'static str, bytes: &[u8]) -> Result<[u8; N], SerdeError> {
    bytes.try_into().map_err(|_| {
        let unit = if N == 1 { "byte" } else { "bytes" };
        SerdeError::new(codec, format!("expected {N} {unit}, got {}", bytes.len()))
    })
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
