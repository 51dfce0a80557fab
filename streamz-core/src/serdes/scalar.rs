//! `bool` and `()`.

use std::sync::Arc;

use super::{fixed, require_bytes, Data, Serde, SerdeRef};
use crate::error::SerdeError;

/// `bool` as one byte, `1` for true and `0` for false, like Kafka's `Serdes.Boolean()`.
///
/// Decoding fails on any other byte or length, and on a null key or value.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{BoolSerde, Serde};
///
/// assert!(BoolSerde.deserialize(Some(&[1])).unwrap());
/// let err = BoolSerde.deserialize(Some(&[2])).unwrap_err();
/// assert_eq!(err.to_string(), "bool: expected 0 or 1, got 2");
/// ```
#[doc(alias = "Serdes.Boolean")]
#[derive(Clone, Copy, Debug, Default)]
pub struct BoolSerde;

impl Serde<bool> for BoolSerde {
    fn name(&self) -> &'static str {
        "bool"
    }

    fn serialize(&self, value: &bool, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        out.push(u8::from(*value));
        Ok(true)
    }

    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<bool, SerdeError> {
        match fixed::<1>("bool", require_bytes::<bool>("bool", bytes)?)? {
            [0] => Ok(false),
            [1] => Ok(true),
            [other] => Err(SerdeError::new("bool", format!("expected 0 or 1, got {other}"))),
        }
    }
}

impl Data for bool {
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(BoolSerde)
    }
}

/// `()`: always null, like Kafka's `Serdes.Void()`. For keys or values that carry nothing.
///
/// Serializing writes nothing and returns `Ok(false)` (a null key or value). Deserializing
/// accepts null and, unlike Java's `VoidDeserializer`, also ignores any bytes, so a topic whose
/// keys are irrelevant can be read as `()`.
///
/// # Examples
///
/// ```
/// use streamz_core::serdes::{to_bytes, Serde, UnitSerde};
///
/// assert_eq!(to_bytes(&UnitSerde, &()).unwrap(), None);
/// assert_eq!(UnitSerde.deserialize(Some(b"ignored")).unwrap(), ());
/// ```
#[doc(alias = "Serdes.Void")]
#[derive(Clone, Copy, Debug, Default)]
pub struct UnitSerde;

impl Serde<()> for UnitSerde {
    fn name(&self) -> &'static str {
        "unit"
    }

    fn serialize(&self, _value: &(), _out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        Ok(false)
    }

    fn deserialize(&self, _bytes: Option<&[u8]>) -> Result<(), SerdeError> {
        Ok(())
    }
}

impl Data for () {
    fn default_serde() -> SerdeRef<Self> {
        Arc::new(UnitSerde)
    }

    fn is_null(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    #[test]
    fn bool_round_trips_as_one_byte() {
        assert_eq!(to_bytes(&BoolSerde, &true).unwrap(), Some(vec![1]));
        assert_eq!(to_bytes(&BoolSerde, &false).unwrap(), Some(vec![0]));
        assert!(!BoolSerde.deserialize(Some(&[0])).unwrap());
    }

    #[test]
    fn bool_rejects_bad_input() {
        let err = BoolSerde.deserialize(Some(&[1, 0])).unwrap_err();
        assert_eq!(err.to_string(), "bool: expected 1 byte, got 2");
        assert_eq!(BoolSerde.deserialize(None).unwrap_err().codec, "bool");
    }

    #[test]
    fn unit_is_always_null() {
        let mut out = vec![9];
        assert!(!UnitSerde.serialize(&(), &mut out).unwrap());
        assert_eq!(out, [9]);
        assert!(().is_null());
        UnitSerde.deserialize(None).unwrap();
        UnitSerde.deserialize(Some(&[1, 2, 3])).unwrap();
    }
}
