//! Property tests: every default serde decodes what it encodes.

use proptest::prelude::*;

use super::{to_bytes, Bincode, Data, Json};
use crate::time::Windowed;

fn round_trip<T: Data + PartialEq>(value: &T) -> Result<(), TestCaseError> {
    let serde = T::default_serde();
    let bytes = to_bytes(&*serde, value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back = serde.deserialize(bytes.as_deref()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

proptest! {
    #[test]
    fn scalars(
        s in ".*",
        b in any::<Vec<u8>>(),
        i in any::<i64>(),
        u in any::<u16>(),
        f in any::<f64>(),
    ) {
        round_trip(&s)?;
        round_trip(&b)?;
        round_trip(&i)?;
        round_trip(&u)?;
        let bytes = to_bytes(&*f64::default_serde(), &f).unwrap();
        let back = f64::default_serde().deserialize(bytes.as_deref()).unwrap();
        prop_assert_eq!(back.to_bits(), f.to_bits());
    }

    #[test]
    fn composites(
        key in proptest::option::of(".*"),
        n in any::<i32>(),
        start in any::<i64>(),
        end in any::<i64>(),
    ) {
        round_trip(&key)?;
        round_trip(&(key.clone(), n, (), n % 2 == 0))?;
        round_trip(&Windowed::new(key.clone().unwrap_or_default(), start, end))?;
        round_trip(&Json((key.clone(), vec![n])))?;
        round_trip(&Bincode((key, vec![n], start)))?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in any::<Vec<u8>>()) {
        let input = Some(bytes.as_slice());
        let _ = <(String, Option<i64>, bool)>::default_serde().deserialize(input);
        let _ = Windowed::<(u8, String)>::default_serde().deserialize(input);
        let _ = Json::<Vec<(String, f32)>>::default_serde().deserialize(input);
        let _ = Bincode::<Vec<(String, Option<u64>)>>::default_serde().deserialize(input);
    }
}
