//! UTF-8 strings.

use std::sync::Arc;

use super::{require_bytes, Data, Serde, SerdeRef};
use crate::error::SerdeError;

/// UTF-8 text, byte-compatible with Kafka's `Serdes.String()` (UTF-8 by default).
///
/// A null key or value is an error; use `Option<String>` where nulls may occur. The empty
/// string encodes as zero bytes, which is not null.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{Serde, StringSerde};
///
/// let mut buf = Vec::new();
/// StringSerde.serialize(&"grüß".to_string(), &mut buf).unwrap();
/// assert_eq!(buf, "grüß".as_bytes());
/// assert!(StringSerde.deserialize(Some(&[0xff])).is_err());
/// ```
#[doc(alias = "Serdes.String")]
#[derive(Clone, Copy, Debug, Default)]
pub struct StringSerde;

const CODEC: &str = "utf-8";

impl Serde<String> for StringSerde {
    fn name(&self) -> &'static str {
        CODEC
    }

    fn serialize(&self, value: &String, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        out.extend_from_slice(value.as_bytes());
        Ok(true)
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<String, SerdeError> {
        let bytes = require_bytes::<String>(CODEC, bytes)?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(e) => Err(SerdeError::new(CODEC, e.to_string())),
        }
    }
}

impl Data for String {
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(StringSerde)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    #[test]
    fn round_trips_text_including_empty() {
        for text in ["", "hello", "grüß 🦀"] {
            let bytes = to_bytes(&StringSerde, &text.to_string()).unwrap().unwrap();
            assert_eq!(bytes, text.as_bytes());
            assert_eq!(StringSerde.deserialize(Some(&bytes)).unwrap(), text);
        }
    }

    #[test]
    fn rejects_invalid_utf8() {
        let err = StringSerde.deserialize(Some(&[b'a', 0xc3])).unwrap_err();
        assert_eq!(err.codec, "utf-8");
        assert!(err.to_string().starts_with("utf-8: incomplete utf-8"), "{err}");
    }

    #[test]
    fn null_is_an_error_naming_the_type() {
        let err = StringSerde.deserialize(None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "utf-8: got a null key or value but `String` is not nullable \
             (use `Option<String>` to accept nulls)"
        );
    }
}
