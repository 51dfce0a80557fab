use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, streamz::Data)]
struct Tick {
    #[streamz(timestamp)]
    at: u64,
}

fn main() {}
