//! Bad input never panics: malformed text and static errors are rejected with
//! a location (the cases are data, in `corpus/bad-input.kont`); runtime
//! faults are typed, catchable errors raised at a node, which maps back to
//! line:column (kept here: scripts do not assert error sites).

#![forbid(unsafe_code)]

use kont_spec::script::{Script, Stage};
use kont_spec::syntax::parse_program;
use kont_spec::{check_program, Engine, Limits, Outcome, RunOptions};
use kont_tests::root;
use proptest::prelude::*;

/// Malformed and invalid texts are data: `corpus/bad-input.kont` holds them as
/// `(malformed ...)` / `(invalid ...)` cases; here, that they are there and pass.
#[test]
fn malformed_and_invalid_texts_are_rejected_with_a_location() {
    let s = Script::load(&root().join("corpus/bad-input.kont")).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.cases.is_empty(), "bad-input.kont holds rejections only");
    let count = |stage| s.rejections.iter().filter(|r| r.stage == stage).count();
    assert!(count(Stage::Malformed) >= 10, "malformed cases: {}", count(Stage::Malformed));
    assert!(count(Stage::Invalid) >= 3, "invalid cases: {}", count(Stage::Invalid));
    for r in &s.rejections {
        assert_eq!(r.failures(), Vec::<String>::new(), "{:?}", r.name);
    }
}

/// Run `src` on the reference; the uncaught error's tag and `line:col`.
fn runtime_error(src: &str) -> (String, String) {
    let (p, map) = parse_program(src).unwrap();
    check_program(&p).unwrap();
    let r = kont_reference::Reference.run(&p, Limits::DEFAULT, RunOptions::default());
    match r.outcome {
        Outcome::Error { error, site } => (error.error_tag().unwrap().to_string(), map.describe(site)),
        other => panic!("{src}: expected an error, got {other}"),
    }
}

#[test]
fn calling_a_non_function_is_a_typed_error_at_the_call() {
    assert_eq!(runtime_error("(let ((f 3))\n  (f 1))"), ("not-a-function".into(), "2:3".into()));
}

#[test]
fn resuming_a_non_continuation_is_a_typed_error_at_the_resume() {
    assert_eq!(runtime_error("(do 1\n (resume 42 1))"), ("not-a-continuation".into(), "2:2".into()));
}

#[test]
fn double_resume_is_a_typed_error_at_the_second_resume() {
    let src = "(with-handler ((Ping (x k) (resume k 1)\n                        (resume k 2)))\n  (perform Ping 0))";
    assert_eq!(runtime_error(src), ("one-shot".into(), "2:25".into()));
}

#[test]
fn an_unhandled_effect_is_a_typed_error_at_the_perform() {
    assert_eq!(runtime_error("(+ 1\n   (perform Ping 0))"), ("unhandled".into(), "2:4".into()));
}

#[test]
fn integer_overflow_is_a_typed_error_at_the_operation() {
    assert_eq!(runtime_error("(* 4611686018427387904\n 2)"), ("overflow".into(), "1:1".into()));
    assert_eq!(runtime_error("(- -9223372036854775807 2)"), ("overflow".into(), "1:1".into()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Arbitrary text (mostly near-miss syntax) either parses or reports a
    /// positioned error; it never panics.
    #[test]
    fn the_parser_never_panics(src in "[()\\[\\]\" a-zA-Z0-9+\\-*/=<>?!:;\\\\\n]{0,64}") {
        match parse_program(&src) {
            Ok((p, _)) => { let _ = check_program(&p); }
            Err(e) => prop_assert!(e.pos.line >= 1 && e.pos.col >= 1),
        }
    }

    #[test]
    fn the_parser_never_panics_on_any_unicode(src in any::<String>()) {
        let _ = parse_program(&src);
    }
}
