//! Compile-fail tests of the typed DSL: misuse (windowing or aggregating an ungrouped stream,
//! serdes or closures of the wrong type) must not compile, with an error that points at it.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test compile_fail`.

#[test]
fn dsl_misuse_does_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/dsl/*.rs");
}
