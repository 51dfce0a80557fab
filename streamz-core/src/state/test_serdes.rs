//! Tiny serdes for the state store tests.

use std::sync::Arc;

use crate::error::SerdeError;
use crate::serdes::{Serde, SerdeRef};

/// UTF-8 strings.
pub(crate) struct Utf8;

impl Serde<String> for Utf8 {
    fn name(&self) -> &'static str {
        "utf-8"
    }
    fn serialize(&self, value: &String, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        out.extend_from_slice(value.as_bytes());
        Ok(true)
    }
    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<String, SerdeError> {
        let bytes = bytes.ok_or_else(|| SerdeError::new("utf-8", "null"))?;
        String::from_utf8(bytes.to_vec()).map_err(|e| SerdeError::new("utf-8", e.to_string()))
    }
}

/// Big-endian `u64`: byte order equals numeric order.
pub(crate) struct U64;

impl Serde<u64> for U64 {
    fn name(&self) -> &'static str {
        "u64"
    }
    fn serialize(&self, value: &u64, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        out.extend_from_slice(&value.to_be_bytes());
        Ok(true)
    }
    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<u64, SerdeError> {
        let bytes = bytes.ok_or_else(|| SerdeError::new("u64", "null"))?;
        let arr: [u8; 8] = bytes.try_into().map_err(|_| SerdeError::new("u64", "not 8 bytes"))?;
        Ok(u64::from_be_bytes(arr))
    }
}

/// `Option<String>`: `None` is null.
pub(crate) struct NullableUtf8;

impl Serde<Option<String>> for NullableUtf8 {
    fn name(&self) -> &'static str {
        "nullable-utf-8"
    }
    fn serialize(&self, value: &Option<String>, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        match value {
            Some(s) => Utf8.serialize(s, out),
            None => Ok(false),
        }
    }
    fn deserialize(&self, bytes: Option<&[u8]>) -> Result<Option<String>, SerdeError> {
        bytes.map(|b| Utf8.deserialize(Some(b))).transpose()
    }
}

pub(crate) fn utf8() -> SerdeRef<String> {
    Arc::new(Utf8)
}

pub(crate) fn u64_be() -> SerdeRef<u64> {
    Arc::new(U64)
}

pub(crate) fn s(v: &str) -> String {
    v.to_string()
}
