//! Chapters of the user guide. Their code blocks run as tests.

#[doc = include_str!("../docs/testing.md")]
pub mod testing {}

#[doc = include_str!("../docs/running.md")]
pub mod running {}

#[doc = include_str!("../docs/bad_input.md")]
pub mod bad_input {}

#[doc = include_str!("../docs/semantics.md")]
pub mod semantics {}
