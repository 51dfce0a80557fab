//! Compile-fail tests of streamz's typed DSL and of `#[derive(Data)]`: misuse must not
//! compile, with an error that points at it. The cases are in `tests/dsl` and
//! `tests/derive`, each beside the compiler output it must give; `tests/compile_fail.rs` runs
//! them.
//!
//! Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p streamz-ui-tests`.
