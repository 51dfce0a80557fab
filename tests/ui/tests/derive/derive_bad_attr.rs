use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, streamz::Data)]
#[streamz(codec = "xml")]
struct UnknownCodec {
    id: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, streamz::Data)]
#[streamz(format = "json")]
struct UnknownKey {
    id: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, streamz::Data)]
struct TwoTimestamps {
    #[streamz(timestamp)]
    created: i64,
    #[streamz(timestamp)]
    updated: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, streamz::Data)]
enum TimestampInEnum {
    Tick {
        #[streamz(timestamp)]
        at: i64,
    },
}

fn main() {}
