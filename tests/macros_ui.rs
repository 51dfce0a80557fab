//! Compile-fail tests of the macros: misuse must fail with a clear error at the right place.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test macros_ui`.

#[test]
fn macros_ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
