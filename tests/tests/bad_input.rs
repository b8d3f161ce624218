//! Bad input never panics: malformed text and static errors are rejected with
//! a location; runtime faults are typed, catchable errors raised at a node,
//! which maps back to line:column.

#![forbid(unsafe_code)]

use kont_spec::syntax::parse_program;
use kont_spec::{check_program, Engine, Limits, Outcome, RunOptions};
use proptest::prelude::*;

/// The parse error for `src`, as `line:col: message`.
fn parse_error(src: &str) -> String {
    parse_program(src).err().map(|e| e.to_string()).unwrap_or_else(|| panic!("{src:?} should not parse"))
}

#[test]
fn malformed_text_is_rejected_with_a_location() {
    assert_eq!(parse_error("(+ 1 2"), "1:7: expected `)` to close `(+ ...)`, found end of input");
    assert_eq!(parse_error("(let ((x 1)) x))"), "1:16: unexpected text after the program's expression");
    assert_eq!(parse_error("\"abc"), "1:1: unterminated string literal");
    assert_eq!(parse_error("(if true 1)"), "1:1: `if` takes 3 argument(s), got 2");
    assert_eq!(
        parse_error("\n  (perform ping 1)"),
        "2:12: `ping` is not an effect label (labels start with an upper-case letter)"
    );
    assert_eq!(
        parse_error("99999999999999999999"),
        "1:1: integer literal 99999999999999999999 does not fit in 64 bits"
    );
    assert_eq!(parse_error("(with-handler ((Ping (x x) x)) 1)"), "1:25: clause parameters must differ");
    assert_eq!(parse_error(""), "1:1: empty program");
    assert_eq!(parse_error(")"), "1:1: unexpected `)`");
    assert_eq!(parse_error("(fn (x x) x)"), "1:8: parameter `x` appears twice");
}

#[test]
fn unbound_variables_are_rejected_with_a_location() {
    let (p, map) = parse_program("(let ((x 1))\n  (+ x y))").unwrap();
    let e = check_program(&p).unwrap_err();
    assert_eq!(e.render(Some(&map)), "2:8: unbound variable `y`");
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
