//! Raw bytes.

use std::sync::Arc;

use super::{require_bytes, Data, Serde, SerdeRef};
use crate::error::SerdeError;

/// Bytes as they are, like Kafka's `Serdes.ByteArray()`.
///
/// A null key or value is an error; use `Option<Vec<u8>>` where nulls may occur.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{BytesSerde, Serde};
///
/// assert_eq!(BytesSerde.deserialize(Some(&[1, 2, 3])).unwrap(), vec![1, 2, 3]);
/// ```
#[doc(alias = "Serdes.ByteArray")]
#[derive(Clone, Copy, Debug, Default)]
pub struct BytesSerde;

const CODEC: &str = "bytes";

impl Serde<Vec<u8>> for BytesSerde {
    fn name(&self) -> &'static str {
        CODEC
    }

    fn serialize(&self, value: &Vec<u8>, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        out.extend_from_slice(value);
        Ok(true)
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<Vec<u8>, SerdeError> {
        require_bytes::<Vec<u8>>(CODEC, bytes).map(<[u8]>::to_vec)
    }
}

impl Data for Vec<u8> {
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(BytesSerde)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    #[test]
    fn round_trips_bytes_including_empty() {
        for bytes in [vec![], vec![0, 255, 7]] {
            let encoded = to_bytes(&BytesSerde, &bytes).unwrap().unwrap();
            assert_eq!(encoded, bytes);
            assert_eq!(BytesSerde.deserialize(Some(&encoded)).unwrap(), bytes);
        }
    }

    #[test]
    fn null_is_an_error() {
        let err = BytesSerde.deserialize(None).unwrap_err();
        assert_eq!(err.codec, "bytes");
        assert!(err.message.contains("`Vec<u8>` is not nullable"), "{err}");
    }
}
