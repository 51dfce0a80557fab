//! Big-endian integers and floats, byte-compatible with Kafka's Java serdes.

use std::sync::Arc;

use super::{fixed, require_bytes, Data, Serde, SerdeRef};
use crate::error::SerdeError;

macro_rules! number_serde {
    ($(#[$attr:meta])* $name:ident, $ty:ty, $codec:literal, $java:literal) => {
        #[doc = concat!("`", stringify!($ty), "` as ", $java, ".")]
        ///
        /// The encoding is the value's big-endian bytes, as Java writes numbers. Decoding fails
        /// on any other length, and on a null key or value (use `Option<_>` to accept nulls).
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Serde<$ty> for $name {
            fn name(&self) -> &'static str {
                $codec
            }

            fn serialize(&self, value: &$ty, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
                out.extend_from_slice(&value.to_be_bytes());
                Ok(true)
            }

            fn deserialize(&self, bytes: Option<&[u8]>) -> Result<$ty, SerdeError> {
                let bytes = require_bytes::<$ty>($codec, bytes)?;
                fixed($codec, bytes).map(<$ty>::from_be_bytes)
            }
        }

        impl Data for $ty {
            fn default_serde() -> SerdeRef<Self> {
                Arc::new($name)
            }
        }
    };
}

number_serde!(I8Serde, i8, "i8", "one byte (two's complement)");
number_serde!(
    #[doc(alias = "Serdes.Short")]
    I16Serde,
    i16,
    "i16",
    "2 bytes, like Kafka's `Serdes.Short()`"
);
number_serde!(
    /// # Examples
    ///
    /// ```
    /// use streamz_core::serdes::{I32Serde, Serde};
    ///
    /// let mut buf = Vec::new();
    /// I32Serde.serialize(&-2, &mut buf).unwrap();
    /// assert_eq!(buf, [0xff, 0xff, 0xff, 0xfe]);
    /// let err = I32Serde.deserialize(Some(&[1, 2])).unwrap_err();
    /// assert_eq!(err.to_string(), "i32: expected 4 bytes, got 2");
    /// ```
    #[doc(alias = "Serdes.Integer")]
    I32Serde, i32, "i32", "4 bytes, like Kafka's `Serdes.Integer()`"
);
number_serde!(
    /// # Examples
    ///
    /// ```
    /// use streamz_core::serdes::{I64Serde, Serde};
    ///
    /// assert_eq!(I64Serde.deserialize(Some(&[0, 0, 0, 0, 0, 0, 1, 0])).unwrap(), 256);
    /// ```
    #[doc(alias = "Serdes.Long")]
    I64Serde, i64, "i64", "8 bytes, like Kafka's `Serdes.Long()`"
);
number_serde!(U8Serde, u8, "u8", "one byte");
number_serde!(U16Serde, u16, "u16", "2 bytes");
number_serde!(U32Serde, u32, "u32", "4 bytes");
number_serde!(U64Serde, u64, "u64", "8 bytes");
number_serde!(
    #[doc(alias = "Serdes.Float")]
    F32Serde,
    f32,
    "f32",
    "4 bytes (IEEE 754), like Kafka's `Serdes.Float()`"
);
number_serde!(
    #[doc(alias = "Serdes.Double")]
    F64Serde,
    f64,
    "f64",
    "8 bytes (IEEE 754), like Kafka's `Serdes.Double()`"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::to_bytes;

    fn encode<T: Data>(value: T) -> Vec<u8> {
        to_bytes(&*T::default_serde(), &value).unwrap().unwrap()
    }

    #[test]
    fn matches_java_bytes() {
        // What Kafka's Java serdes write for the same values.
        assert_eq!(encode(1i64), [0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(encode(-1i64), [0xff; 8]);
        assert_eq!(encode(1i32), [0, 0, 0, 1]);
        assert_eq!(encode(0x0102i16), [1, 2]);
        assert_eq!(encode(i32::MIN), [0x80, 0, 0, 0]);
        assert_eq!(encode(1.0f64), [0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(encode(-2.5f32), [0xc0, 0x20, 0, 0]);
        assert_eq!(encode(-1i8), [0xff]);
        assert_eq!(encode(0xfffe_u16), [0xff, 0xfe]);
    }

    #[test]
    fn round_trips_extremes() {
        assert_eq!(I64Serde.deserialize(Some(&encode(i64::MIN))).unwrap(), i64::MIN);
        assert_eq!(U64Serde.deserialize(Some(&encode(u64::MAX))).unwrap(), u64::MAX);
        assert_eq!(U32Serde.deserialize(Some(&encode(7u32))).unwrap(), 7);
        assert_eq!(U8Serde.deserialize(Some(&[200])).unwrap(), 200);
        let nan = F64Serde.deserialize(Some(&encode(f64::NAN))).unwrap();
        assert!(nan.is_nan());
        assert_eq!(F32Serde.deserialize(Some(&encode(f32::INFINITY))).unwrap(), f32::INFINITY);
    }

    #[test]
    fn wrong_length_names_expected_and_actual() {
        let err = I64Serde.deserialize(Some(&[0; 9])).unwrap_err();
        assert_eq!(err.to_string(), "i64: expected 8 bytes, got 9");
        let err = I8Serde.deserialize(Some(&[])).unwrap_err();
        assert_eq!(err.to_string(), "i8: expected 1 byte, got 0");
        let err = F64Serde.deserialize(Some(&[0; 4])).unwrap_err();
        assert_eq!(err.to_string(), "f64: expected 8 bytes, got 4");
    }

    #[test]
    fn null_is_an_error() {
        let err = I16Serde.deserialize(None).unwrap_err();
        assert_eq!(err.codec, "i16");
        assert!(err.message.contains("`i16` is not nullable"), "{err}");
    }
}
