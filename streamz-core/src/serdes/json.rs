//! JSON for any serde type: [`JsonSerde`] and the [`Json`] wrapper.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{require_bytes, Data, Serde, SerdeRef};
use crate::error::SerdeError;

const CODEC: &str = "json";

/// JSON through `serde_json`, for any type that implements `Serialize` and `Deserialize`.
///
/// This is the default codec of `#[derive(Data)]`. The encoding is compact JSON text (UTF-8),
/// readable by any JSON consumer. A null key or value is an error; use `Option<T>` for that.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{JsonSerde, Serde};
///
/// let serde = JsonSerde::<Vec<u32>>::new();
/// let mut buf = Vec::new();
/// serde.serialize(&vec![1, 2], &mut buf).unwrap();
/// assert_eq!(buf, b"[1,2]");
/// let err = serde.deserialize(Some(b"[1,x]")).unwrap_err();
/// assert_eq!(err.to_string(), "json: expected value at line 1 column 4");
/// ```
pub struct JsonSerde<T> {
    _type: PhantomData<fn() -> T>,
}

impl<T> JsonSerde<T> {
    /// The JSON serde of `T`.
    pub const fn new() -> Self {
        JsonSerde { _type: PhantomData }
    }
}

impl<T> Default for JsonSerde<T> {
    fn default() -> Self {
        JsonSerde::new()
    }
}

impl<T> Clone for JsonSerde<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for JsonSerde<T> {}

impl<T> fmt::Debug for JsonSerde<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonSerde<{}>", std::any::type_name::<T>())
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Serde<T> for JsonSerde<T> {
    fn name(&self) -> &'static str {
        CODEC
    }

    fn serialize(&self, value: &T, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        serde_json::to_writer(&mut *out, value).map_err(|e| SerdeError::new(CODEC, e.to_string()))?;
        Ok(true)
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<T, SerdeError> {
        let bytes = require_bytes::<T>(CODEC, bytes)?;
        // JSON text is UTF-8: checking the whole text once costs less than `from_slice`'s
        // check of each string and field name on its own (most are a few bytes long).
        let text = std::str::from_utf8(bytes).map_err(|e| SerdeError::new(CODEC, format!("not UTF-8: {e}")))?;
        serde_json::from_str(text).map_err(|e| SerdeError::new(CODEC, e.to_string()))
    }
}

/// A value whose default serde is JSON: makes any serde type a [`Data`] type.
///
/// Use it for types from other crates, which cannot derive `Data`. It serializes exactly as
/// the wrapped value (serde-transparent) and dereferences to it.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use streamz_core::serdes::{to_bytes, Data, Json};
///
/// let counts = Json(BTreeMap::from([("a".to_string(), 1)]));
/// let bytes = to_bytes(&*Json::default_serde(), &counts).unwrap().unwrap();
/// assert_eq!(bytes, br#"{"a":1}"#);
/// assert_eq!(counts["a"], 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The wrapped value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Json<T> {
    fn from(value: T) -> Self {
        Json(value)
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Data for Json<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + fmt::Debug + 'static,
{
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(JsonSerde::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Trade {
        player: String,
        amount: i64,
    }

    #[test]
    fn round_trips_a_struct() {
        let trade = Json(Trade { player: "ann".into(), amount: -3 });
        let bytes = to_bytes(&*Json::default_serde(), &trade).unwrap().unwrap();
        assert_eq!(bytes, br#"{"player":"ann","amount":-3}"#);
        let back: Json<Trade> = JsonSerde::new().deserialize(Some(&bytes)).unwrap();
        assert_eq!(back, trade);
    }

    #[test]
    fn bad_input_is_an_error_naming_json() {
        let serde = JsonSerde::<Trade>::new();
        let err = serde.deserialize(Some(b"")).unwrap_err();
        assert_eq!(err.to_string(), "json: EOF while parsing a value at line 1 column 0");
        let err = serde.deserialize(Some(br#"{"player":"ann"}"#)).unwrap_err();
        assert_eq!(err.to_string(), "json: missing field `amount` at line 1 column 16");
        let err = serde.deserialize(Some(&[0xff, 0x00])).unwrap_err();
        assert_eq!(err.to_string(), "json: not UTF-8: invalid utf-8 sequence of 1 bytes from index 0");
    }

    #[test]
    fn text_that_is_not_utf8_is_an_error_wherever_the_bad_bytes_are() {
        let serde = JsonSerde::<Trade>::new();
        // Inside a string value, and inside a field name.
        let err = serde.deserialize(Some(b"{\"player\":\"a\xffn\",\"amount\":1}")).unwrap_err();
        assert_eq!(err.to_string(), "json: not UTF-8: invalid utf-8 sequence of 1 bytes from index 12");
        let err = serde.deserialize(Some(b"{\"pl\xc3yer\":\"ann\",\"amount\":1}")).unwrap_err();
        assert_eq!(err.to_string(), "json: not UTF-8: invalid utf-8 sequence of 1 bytes from index 4");
        // Characters of two to four bytes pass.
        let back = serde.deserialize(Some("{\"player\":\"\u{e5}\u{20ac}\u{1f600}\",\"amount\":1}".as_bytes())).unwrap();
        assert_eq!(back.player, "\u{e5}\u{20ac}\u{1f600}");
    }

    #[test]
    fn null_is_an_error() {
        let err = JsonSerde::<Trade>::new().deserialize(None).unwrap_err();
        assert!(err.message.contains("`Trade` is not nullable"), "{err}");
    }
}
