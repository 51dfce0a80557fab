//! bincode (version 1) for any serde type: [`BincodeSerde`] and the [`Bincode`] wrapper.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use ::bincode::Options;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{require_bytes, Data, Serde, SerdeRef};
use crate::error::SerdeError;

const CODEC: &str = "bincode";

/// Compact binary encoding through `bincode` 1, for any type that implements `Serialize` and
/// `Deserialize`.
///
/// The bytes are those of `bincode::serialize` (fixed-width little-endian integers, 8-byte
/// lengths), so other Rust programs can read them with `bincode::deserialize`. Decoding is
/// strict: it rejects trailing bytes and never allocates more than the input could hold.
/// Pick it with `#[streamz(codec = "bincode")]` on a derived type.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{BincodeSerde, Serde};
///
/// let serde = BincodeSerde::<(u16, bool)>::new();
/// let mut buf = Vec::new();
/// serde.serialize(&(7, true), &mut buf).unwrap();
/// assert_eq!(buf, [7, 0, 1]);
/// assert_eq!(serde.deserialize(Some(&buf)).unwrap(), (7, true));
/// ```
pub struct BincodeSerde<T> {
    _type: PhantomData<fn() -> T>,
}

impl<T> BincodeSerde<T> {
    /// The bincode serde of `T`.
    pub const fn new() -> Self {
        BincodeSerde { _type: PhantomData }
    }
}

impl<T> Default for BincodeSerde<T> {
    fn default() -> Self {
        BincodeSerde::new()
    }
}

impl<T> Clone for BincodeSerde<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for BincodeSerde<T> {}

impl<T> fmt::Debug for BincodeSerde<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BincodeSerde<{}>", std::any::type_name::<T>())
    }
}

/// The options of `bincode::serialize`, plus strict decoding.
fn options() -> impl Options {
    ::bincode::DefaultOptions::new().with_fixint_encoding().reject_trailing_bytes()
}

fn error(e: ::bincode::Error) -> SerdeError {
    SerdeError::new(CODEC, e.to_string())
}

impl<T: Serialize + DeserializeOwned + 'static> Serde<T> for BincodeSerde<T> {
    fn name(&self) -> &'static str {
        CODEC
    }

    fn serialize(&self, value: &T, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        options().serialize_into(&mut *out, value).map_err(error)?;
        Ok(true)
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<T, SerdeError> {
        let bytes = require_bytes::<T>(CODEC, bytes)?;
        // The limit makes a corrupt length prefix fail instead of allocating.
        let limit = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        options().with_limit(limit).deserialize(bytes).map_err(error)
    }
}

/// A value whose default serde is bincode: makes any serde type a [`Data`] type.
///
/// Like [`Json`](super::Json), but with [`BincodeSerde`]: smaller and faster, not
/// self-describing. Serde-transparent; dereferences to the wrapped value.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{to_bytes, Bincode, Data};
///
/// let bytes = to_bytes(&*Bincode::default_serde(), &Bincode(1u32)).unwrap().unwrap();
/// assert_eq!(bytes, [1, 0, 0, 0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bincode<T>(pub T);

impl<T> Bincode<T> {
    /// The wrapped value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Bincode<T> {
    fn from(value: T) -> Self {
        Bincode(value)
    }
}

impl<T> std::ops::Deref for Bincode<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Bincode<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Data for Bincode<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + fmt::Debug + 'static,
{
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(BincodeSerde::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    enum Event {
        Login { player: String },
        Trade(u32, Vec<u8>),
    }

    #[test]
    fn round_trips_and_matches_bincode_serialize() {
        let serde = BincodeSerde::<Event>::new();
        for event in [Event::Login { player: "bo".into() }, Event::Trade(9, vec![1, 2])] {
            let mut buf = Vec::new();
            assert!(serde.serialize(&event, &mut buf).unwrap());
            assert_eq!(buf, ::bincode::serialize(&event).unwrap());
            assert_eq!(serde.deserialize(Some(&buf)).unwrap(), event);
        }
    }

    #[test]
    fn bad_input_is_an_error_naming_bincode() {
        let serde = BincodeSerde::<Event>::new();
        let err = serde.deserialize(Some(&[7, 0, 0, 0])).unwrap_err();
        assert_eq!(err.to_string(), "bincode: invalid value: integer `7`, expected variant index 0 <= i < 2");
        // A string claiming 2^60 bytes must fail, not allocate.
        let mut huge = vec![0, 0, 0, 0];
        huge.extend_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(serde.deserialize(Some(&huge)).is_err());
        let err = BincodeSerde::<u8>::new().deserialize(Some(&[1, 2])).unwrap_err();
        assert!(err.to_string().starts_with("bincode: "), "{err}");
    }

    #[test]
    fn null_is_an_error() {
        assert_eq!(BincodeSerde::<u8>::new().deserialize(None).unwrap_err().codec, "bincode");
    }
}
