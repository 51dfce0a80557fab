//! `#[derive(Data)]` as users see it: through the `streamz` facade.

use serde::{Deserialize, Serialize};
use streamz::serdes::{to_bytes, Data};
use streamz::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, streamz::Data)]
struct Trade {
    player: String,
    amount: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, streamz::Data)]
#[streamz(codec = "json")]
struct Tick {
    #[streamz(timestamp)]
    at: Timestamp,
    price: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, streamz::Data)]
#[streamz(codec = "bincode")]
enum Alert {
    Suspicious { player: String, score: u32 },
    Cleared,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, streamz::Data)]
#[streamz(codec = "bincode")]
struct Reading(String, #[streamz(timestamp)] i64);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, streamz::Data)]
struct Pair<T> {
    left: T,
    right: T,
}

fn round_trip<T: Data + PartialEq>(value: &T) -> anyhow::Result<Vec<u8>> {
    let serde = T::default_serde();
    let bytes = to_bytes(&*serde, value)?.expect("derived types are never null");
    assert_eq!(&serde.deserialize(Some(&bytes))?, value);
    Ok(bytes)
}

#[test]
fn json_is_the_default_codec() -> anyhow::Result<()> {
    let trade = Trade { player: "ann".into(), amount: -5 };
    assert_eq!(Trade::default_serde().name(), "json");
    assert_eq!(round_trip(&trade)?, br#"{"player":"ann","amount":-5}"#);
    assert_eq!(trade.event_time(), None);
    assert!(!trade.is_null());
    Ok(())
}

#[test]
fn json_errors_name_the_codec() {
    let err = Trade::default_serde().deserialize(Some(b"{")).unwrap_err();
    assert_eq!(err.codec, "json");
    let err = Trade::default_serde().deserialize(None).unwrap_err();
    assert!(err.message.contains("`Trade` is not nullable"), "{err}");
}

#[test]
fn bincode_codec_matches_bincode_bytes() -> anyhow::Result<()> {
    let alert = Alert::Suspicious { player: "bo".into(), score: 7 };
    assert_eq!(Alert::default_serde().name(), "bincode");
    let bytes = round_trip(&alert)?;
    assert_eq!(bytes[..4], [0, 0, 0, 0], "variant index, u32 little-endian");
    round_trip(&Alert::Cleared)?;
    Ok(())
}

#[test]
fn timestamp_field_is_the_event_time() -> anyhow::Result<()> {
    let tick = Tick { at: Timestamp::from_millis(1_500), price: 2.5 };
    assert_eq!(tick.event_time(), Some(Timestamp::from_millis(1_500)));
    assert_eq!(round_trip(&tick)?, br#"{"at":1500,"price":2.5}"#);
    let reading = Reading("cpu".into(), 42);
    assert_eq!(reading.event_time(), Some(Timestamp::from_millis(42)));
    round_trip(&reading)?;
    Ok(())
}

#[test]
fn derived_types_compose() -> anyhow::Result<()> {
    round_trip(&Pair { left: 1u8, right: 2 })?;
    round_trip(&Some(Trade { player: "x".into(), amount: 1 }))?;
    let key = streamz::Windowed::new(Trade { player: "y".into(), amount: 0 }, 0, 60_000);
    round_trip(&(key, Alert::Cleared))?;
    let tick = Some(Tick { at: Timestamp::from_millis(9), price: 0.0 });
    assert_eq!(tick.event_time(), Some(Timestamp::from_millis(9)));
    Ok(())
}
