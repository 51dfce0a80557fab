//! Values with their timestamp: [`Timestamped<V>`](crate::record::Timestamped).

use std::fmt;
use std::sync::Arc;

use super::{require_bytes, Data, Serde, SerdeRef};
use crate::error::SerdeError;
use crate::record::Timestamped;
use crate::time::Timestamp;

const CODEC: &str = "timestamped";

/// A [`Timestamped<V>`] value, as the DSL's stores hold them and write them to changelogs.
///
/// Layout: `timestamp (8 bytes, big-endian i64 ms) ‖ value bytes`, Kafka Streams'
/// `ValueAndTimestamp` layout. A null value (`Timestamped<Option<V>>` holding `None`) is
/// written as null, as Kafka Streams does, so a changelog gets a tombstone for it.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{to_bytes, Data};
/// use streamz_core::{Timestamp, Timestamped};
///
/// let serde = Timestamped::<i64>::default_serde();
/// let bytes = to_bytes(&*serde, &Timestamped::new(3, Timestamp(256))).unwrap().unwrap();
/// assert_eq!(bytes, [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
/// assert_eq!(serde.deserialize(Some(&bytes)).unwrap(), Timestamped::new(3, Timestamp(256)));
/// ```
pub struct TimestampedSerde<V> {
    value: SerdeRef<V>,
}

impl<V> TimestampedSerde<V> {
    /// Timestamped values whose values are encoded by `value`.
    pub fn new(value: SerdeRef<V>) -> Self {
        TimestampedSerde { value }
    }
}

impl<V> Clone for TimestampedSerde<V> {
    fn clone(&self) -> Self {
        TimestampedSerde { value: Arc::clone(&self.value) }
    }
}

impl<V: 'static> fmt::Debug for TimestampedSerde<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TimestampedSerde").field(&self.value.name()).finish()
    }
}

impl<V: 'static> Serde<Timestamped<V>> for TimestampedSerde<V> {
    fn name(&self) -> &'static str {
        CODEC
    }

    fn serialize(&self, value: &Timestamped<V>, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        let start = out.len();
        out.extend_from_slice(&value.timestamp.as_millis().to_be_bytes());
        match self.value.serialize(&value.value, out) {
            Ok(true) => Ok(true),
            Ok(false) => {
                out.truncate(start);
                Ok(false)
            }
            Err(e) => {
                out.truncate(start);
                Err(SerdeError::new(CODEC, format!("value: {e}")))
            }
        }
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<Timestamped<V>, SerdeError> {
        let bytes = require_bytes::<Timestamped<V>>(CODEC, bytes)?;
        let Some((ts, value)) = bytes.split_first_chunk::<8>() else {
            return Err(SerdeError::new(CODEC, format!("expected at least 8 bytes, got {}", bytes.len())));
        };
        let value = self.value.deserialize(Some(value)).map_err(|e| SerdeError::new(CODEC, format!("value: {e}")))?;
        Ok(Timestamped::new(value, Timestamp(i64::from_be_bytes(*ts))))
    }
}

impl<V: Data> Data for Timestamped<V> {
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(TimestampedSerde::new(V::default_serde()))
    }

    /// Null when its value is (then it is written as null).
    fn is_null(&self) -> bool {
        self.value.is_null()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    #[test]
    fn round_trips_and_writes_null_values_as_null() {
        let serde = Timestamped::<Option<String>>::default_serde();
        let some = Timestamped::new(Some("v".to_string()), Timestamp(-2));
        let bytes = to_bytes(&*serde, &some).unwrap().unwrap();
        assert_eq!(bytes, [255, 255, 255, 255, 255, 255, 255, 254, b'v']);
        assert_eq!(serde.deserialize(Some(&bytes)).unwrap(), some);
        assert_eq!(to_bytes(&*serde, &Timestamped::new(None, Timestamp(5))).unwrap(), None);
    }

    #[test]
    fn rejects_short_and_null_input() {
        let serde = Timestamped::<i64>::default_serde();
        assert!(serde.deserialize(Some(&[0, 1, 2])).unwrap_err().to_string().contains("at least 8 bytes"));
        assert!(serde.deserialize(None).is_err());
        assert!(serde.deserialize(Some(&[0; 9])).unwrap_err().to_string().starts_with("timestamped: value"));
    }
}
