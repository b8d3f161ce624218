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

/// Invalid UTF-8 in a file is reported at its line:col (columns count
/// characters: `é` is one), for programs and for scripts alike.
#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let e = kont_spec::syntax::decode(b"(+ 1\n   \xc3\xa9 \xff 2)").unwrap_err();
    assert_eq!(e.to_string(), "2:6: invalid UTF-8 (byte 0xff)");
    assert_eq!(kont_spec::syntax::decode(b"\x80").unwrap_err().to_string(), "1:1: invalid UTF-8 (byte 0x80)");
    assert_eq!(kont_spec::syntax::decode("(+ 1 é)".as_bytes()), Ok("(+ 1 é)"));

    let path = std::env::temp_dir().join(format!("kont-bad-utf8-{}.kont", std::process::id()));
    std::fs::write(&path, b"(test \"t\"\n  (program \"\xff\") (value 1))").unwrap();
    let e = Script::load(&path).unwrap_err();
    std::fs::remove_file(&path).ok();
    assert_eq!(e.error.to_string(), "2:13: invalid UTF-8 (byte 0xff)");
}

fn script_error(src: &str) -> String {
    match Script::parse(std::path::Path::new("t.kont"), src) {
        Ok(_) => panic!("accepted: {src}"),
        Err(e) => e.error.to_string(),
    }
}

/// A limit out of range is an error at the number, not clamped.
#[test]
fn a_negative_or_out_of_range_limit_is_rejected() {
    let max = u64::MAX;
    for (src, msg) in [
        (
            r#"(test "t" (limits :fuel -1) (program 1) (value 1))"#,
            format!("1:25: the fuel must be an integer from 0 to {max}, not -1"),
        ),
        (
            r#"(test "t" (limits :depth -5) (program 1) (value 1))"#,
            "1:26: the depth must be an integer from 0 to 4294967295, not -5".into(),
        ),
        (
            r#"(test "t" (limits :depth 4294967296) (program 1) (value 1))"#,
            "1:26: the depth must be an integer from 0 to 4294967295, not 4294967296".into(),
        ),
        (
            r#"(test "t" (program 1) (value 1) (fuel-spent -1))"#,
            format!("1:45: the fuel spent must be an integer from 0 to {max}, not -1"),
        ),
    ] {
        assert_eq!(script_error(src), msg, "{src}");
    }
    let ok = Script::parse(
        std::path::Path::new("t.kont"),
        r#"(test "t" (limits :fuel 0 :depth 4294967295) (program 1) (exhausted fuel))"#,
    );
    assert_eq!(
        ok.unwrap().cases[0].limits(Limits::DEFAULT),
        Limits { fuel: 0, depth: u32::MAX, memory: Limits::DEFAULT.memory }
    );
}

/// An option or single-setting clause given twice is an error: the last one
/// must not silently win.
#[test]
fn a_repeated_option_or_clause_is_rejected() {
    for (src, msg) in [
        (r#"(test "t" (limits :fuel 1 :fuel 2) (program 1) (value 1))"#, "1:27: `:fuel` appears twice in `limits`"),
        (
            r#"(test "t" (limits :depth 1 :fuel 5 :depth 2) (program 1) (value 1))"#,
            "1:36: `:depth` appears twice in `limits`",
        ),
        (
            r#"(test "t" (limits :fuel 1) (limits :depth 2) (program 1) (value 1))"#,
            "1:28: a test has one `(limits ...)`",
        ),
        (r#"(test "t" (program 1) (value 1) (output) (output 1))"#, "1:42: a test has one `(output ...)`"),
        (r#"(test "t" (program 1) (value 1) (trace) (trace))"#, "1:41: a test has one `(trace ...)`"),
        (r#"(test "t" (rules E-Lit) (rules E-Var) (program 1) (value 1))"#, "1:25: a test has one `(rules ...)`"),
        (r#"(test "t" (prelude "std") (prelude "std") (program 1) (value 1))"#, "1:27: a test has one `(prelude ...)`"),
        (
            r#"(test "t" (program 1) (value 1) (fuel-spent 1) (fuel-spent 1))"#,
            "1:48: a test has one `(fuel-spent ...)`",
        ),
    ] {
        assert_eq!(script_error(src), msg, "{src}");
    }
    for (src, msg) in [
        (r#"(with-handler :name "a" :name "b" ((A (x k) x)) 1)"#, "1:25: option `:name` appears twice"),
        ("(with-handler :only (A) :only (B) ((A (x k) x)) 1)", "1:25: option `:only` appears twice"),
        (r#"(with-handler :native "x" :native "y" ((A (x k) x)) 1)"#, "1:27: option `:native` appears twice"),
        ("(with-intercept :only (A) :only (B) (fn (e) e) 1)", "1:27: option `:only` appears twice"),
        ("(with-observe :only (A) :only (B) (fn (e) e) 1)", "1:25: option `:only` appears twice"),
    ] {
        assert_eq!(parse_program(src).map(|_| ()).unwrap_err().to_string(), msg, "{src}");
    }
}
