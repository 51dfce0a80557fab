//! Runs the compile-fail cases (see the crate's docs).

/// Misuse of the DSL: windowing or aggregating an ungrouped stream, serdes or closures of the
/// wrong type, value types that are not `Data`.
#[test]
fn dsl_misuse_does_not_compile() {
    trybuild::TestCases::new().compile_fail("tests/dsl/*.rs");
}

/// Misuse of `#[derive(Data)]`: unknown attributes, two timestamps, a timestamp of the wrong
/// type.
#[test]
fn derive_misuse_does_not_compile() {
    trybuild::TestCases::new().compile_fail("tests/derive/*.rs");
}
