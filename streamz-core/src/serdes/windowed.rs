//! Windowed keys: [`Windowed<K>`](crate::time::Windowed).

use std::fmt;
use std::sync::Arc;

use super::{require_bytes, Data, Serde, SerdeRef};
use crate::error::SerdeError;
use crate::time::{Timestamp, Window, Windowed};

const CODEC: &str = "windowed";

/// A [`Windowed<K>`] key: the key's bytes, then the window's start and end.
///
/// Layout: `key bytes ‖ start (8 bytes, big-endian i64 ms) ‖ end (8 bytes, big-endian i64 ms)`.
/// Decoding takes the last 16 bytes as the window and gives the rest to the key serde. A null
/// key is written as no bytes (windowed aggregations skip null keys, so none occur there).
///
/// Kafka Streams' `WindowedSerdes` write the start only (time windows) or the end before the
/// start (session windows); this layout carries both bounds for every kind of window and is
/// not byte-compatible with them.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{to_bytes, Data};
/// use streamz_core::Windowed;
///
/// let serde = Windowed::<String>::default_serde();
/// let bytes = to_bytes(&*serde, &Windowed::new("k".to_string(), 0, 256)).unwrap().unwrap();
/// assert_eq!(bytes, [b'k', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
/// assert_eq!(serde.deserialize(Some(&bytes)).unwrap(), Windowed::new("k".to_string(), 0, 256));
/// ```
pub struct WindowedSerde<K> {
    key: SerdeRef<K>,
}

impl<K> WindowedSerde<K> {
    /// Windowed keys whose keys are encoded by `key`.
    pub fn new(key: SerdeRef<K>) -> Self {
        WindowedSerde { key }
    }
}

impl<K: Data> Default for WindowedSerde<K> {
    /// Over `K`'s default serde.
    fn default() -> Self {
        WindowedSerde::new(K::default_serde())
    }
}

impl<K> Clone for WindowedSerde<K> {
    fn clone(&self) -> Self {
        WindowedSerde { key: Arc::clone(&self.key) }
    }
}

impl<K: 'static> fmt::Debug for WindowedSerde<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WindowedSerde").field(&self.key.name()).finish()
    }
}

impl<K: 'static> Serde<Windowed<K>> for WindowedSerde<K> {
    fn name(&self) -> &'static str {
        CODEC
    }

    fn serialize(&self, value: &Windowed<K>, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        let start = out.len();
        if let Err(e) = self.key.serialize(&value.key, out) {
            out.truncate(start);
            return Err(SerdeError::new(CODEC, format!("key: {e}")));
        }
        out.extend_from_slice(&value.window.start.as_millis().to_be_bytes());
        out.extend_from_slice(&value.window.end.as_millis().to_be_bytes());
        Ok(true)
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<Windowed<K>, SerdeError> {
        let bytes = require_bytes::<Windowed<K>>(CODEC, bytes)?;
        let split = bytes
            .split_last_chunk::<8>()
            .and_then(|(rest, end)| rest.split_last_chunk::<8>().map(|(key, start)| (key, start, end)));
        let Some((key, start, end)) = split else {
            let message = format!("expected at least 16 bytes, got {}", bytes.len());
            return Err(SerdeError::new(CODEC, message));
        };
        let key = self.key.deserialize(Some(key)).map_err(|e| SerdeError::new(CODEC, format!("key: {e}")))?;
        let (start, end) = (i64::from_be_bytes(*start), i64::from_be_bytes(*end));
        let window = Window { start: Timestamp(start), end: Timestamp(end) };
        Ok(Windowed { key, window })
    }
}

impl<K: Data> Data for Windowed<K> {
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(WindowedSerde::<K>::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    #[test]
    fn round_trips_negative_and_large_bounds() {
        let serde = Windowed::<i32>::default_serde();
        let key = Windowed::new(-7, i64::MIN, i64::MAX);
        let bytes = to_bytes(&*serde, &key).unwrap().unwrap();
        assert_eq!(bytes.len(), 4 + 16);
        assert_eq!(&bytes[4..12], &i64::MIN.to_be_bytes());
        assert_eq!(serde.deserialize(Some(&bytes)).unwrap(), key);
    }

    #[test]
    fn unit_key_is_just_the_window() {
        let serde = Windowed::<()>::default_serde();
        let bytes = to_bytes(&*serde, &Windowed::new((), 1, 2)).unwrap().unwrap();
        assert_eq!(bytes.len(), 16);
        assert_eq!(serde.deserialize(Some(&bytes)).unwrap(), Windowed::new((), 1, 2));
    }

    #[test]
    fn bad_input_is_an_error() {
        let serde = Windowed::<String>::default_serde();
        let err = serde.deserialize(Some(&[0; 15])).unwrap_err();
        assert_eq!(err.to_string(), "windowed: expected at least 16 bytes, got 15");
        let mut bytes = vec![0xff];
        bytes.extend_from_slice(&[0; 16]);
        let err = serde.deserialize(Some(&bytes)).unwrap_err();
        assert!(err.to_string().starts_with("windowed: key: utf-8: invalid utf-8"), "{err}");
        assert!(serde.deserialize(None).unwrap_err().message.contains("not nullable"));
    }
}
