//! `serde` support for [`Timestamp`]: it serializes as its milliseconds (an `i64`), so a
//! record type can hold one and still derive `Serialize` and `Deserialize`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::Timestamp;

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.as_millis())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i64::deserialize(deserializer).map(Timestamp::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_plain_milliseconds_in_json() {
        assert_eq!(serde_json::to_string(&Timestamp::from_millis(-3)).unwrap(), "-3");
        let back: Timestamp = serde_json::from_str("1700000000000").unwrap();
        assert_eq!(back, Timestamp::from_millis(1_700_000_000_000));
    }
}
