//! Deep programs never crash the process: parsing, checking, printing, JSON,
//! running and dropping a 100,000-deep program; a 1,000,000-effect loop.
//! (doeff 0.8.0 segfaults merely freeing a ~37,000-deep program.)
//!
//! These run on the test harness's ordinary 2 MiB threads on purpose.

#![forbid(unsafe_code)]

use kont_spec::syntax::{parse_program, print_program};
use kont_spec::{check_program, Engine, Limits, Outcome, Program, Resource, RunOptions, ValueView};

const DEPTH: usize = 100_000;

/// `DEPTH` nested handlers for labels L0..; the innermost body performs L0,
/// which only the outermost handler takes: the dispatch crosses every boundary.
fn nested_handlers_text() -> String {
    let mut s = String::new();
    for i in (0..DEPTH).rev() {
        s.push_str(&format!("(with-handler ((L{i} (x k) (resume k (+ x 1)))) "));
    }
    s.push_str("(perform L0 41)");
    s.push_str(&")".repeat(DEPTH));
    s
}

#[test]
fn a_program_100000_handlers_deep_goes_through_every_stage() {
    let text = nested_handlers_text();
    let (p, map) = parse_program(&text).expect("parses");
    assert_eq!(p.body.depth(), DEPTH + 3);
    check_program(&p).expect("checks");
    assert_eq!(map.spans.len(), p.size());

    let printed = print_program(&p);
    let (q, _) = parse_program(&printed).expect("printed text parses");
    assert!(p == q, "print/parse round trip");

    let json = p.to_json();
    let r = Program::from_json(&json).expect("JSON parses");
    assert!(p == r, "JSON round trip");

    let result = kont_reference::Reference.run(&p, Limits::DEFAULT, RunOptions::default());
    assert_eq!(result.outcome, Outcome::Value { value: ValueView::Int(42) });

    // Dropping all of these (trees, results) must not overflow either.
    drop((p, q, r, printed, json, result));
}

#[test]
fn a_deep_program_built_in_memory_drops_safely() {
    use kont_spec::ast::{Expr, ExprKind, Lit};
    let mut e = Expr::new(ExprKind::Lit(Lit::Int(0)));
    for _ in 0..1_000_000 {
        e = Expr::new(ExprKind::Emit(Box::new(e)));
    }
    let p = Program::new(e);
    assert_eq!(p.size(), 1_000_001);
    drop(p);
}

#[test]
fn a_deep_program_hits_the_depth_limit_cleanly() {
    let text = nested_handlers_text();
    let (p, _) = parse_program(&text).unwrap();
    let r = kont_reference::Reference.run(&p, Limits::DEFAULT.with_depth(10_000), RunOptions::default());
    assert_eq!(r.outcome, Outcome::Exhausted { resource: Resource::Depth });
}

fn effects_loop(clause: &str) -> Program {
    let src = format!(
        "(with-handler ((Tick (x k) {clause}))
           (letrec ((loop (i acc) (if (= i 0) acc (loop (- i 1) (+ acc (perform Tick i))))))
             (loop 1000000 0)))"
    );
    parse_program(&src).unwrap().0
}

/// A tail-resumptive handler (`transfer`) runs a 1,000,000-effect loop in
/// constant native stack and completes.
#[test]
fn a_million_effects_with_transfer_complete() {
    let p = effects_loop("(transfer k 1)");
    let r = kont_reference::Reference.run(&p, Limits::DEFAULT, RunOptions::default());
    assert_eq!(r.outcome, Outcome::Value { value: ValueView::Int(1_000_000) });
}

/// With a non-tail `resume` every effect's clause waits for the rest of the
/// loop: the context grows by one clause per effect (as in OCaml) and the
/// reference ends the run cleanly at its depth limit instead of crashing.
#[test]
fn a_million_effects_with_non_tail_resume_end_in_resource_exhausted() {
    let p = effects_loop("(resume k 1)");
    let r = kont_reference::Reference.run(&p, Limits::DEFAULT.with_depth(200_000), RunOptions::default());
    assert_eq!(r.outcome, Outcome::Exhausted { resource: Resource::Depth });
}

// Deep values through every stage that walks one: each test holds a value
// 1,000,000 levels deep, on the harness's ordinary 2 MiB thread.

const VALUE_DEPTH: usize = 1_000_000;

/// `(list (list ... (list leaf)))`, `VALUE_DEPTH` lists deep.
fn deep_value(leaf: ValueView) -> ValueView {
    let mut v = leaf;
    for _ in 0..VALUE_DEPTH {
        v = ValueView::List(vec![v]);
    }
    v
}

fn deep_error() -> ValueView {
    ValueView::error("deep", deep_value(ValueView::Int(1)))
}

/// `kont run --json`: the result serializes, and parses back (with the
/// deserializer's recursion limit lifted) to the same value.
#[test]
fn a_value_1000000_deep_goes_through_json() {
    use kont_spec::RunResult;
    let v = deep_value(ValueView::Int(7));
    let r = RunResult {
        outcome: Outcome::Value { value: v.clone() },
        output: vec![v],
        trace: vec![kont_spec::Event::Raise { error: deep_error(), site: 0 }],
        steps: 1,
        memory: 3,
        native: false,
    };
    let json = serde_json::to_string(&r).expect("serializes");
    assert!(json.len() > 10 * VALUE_DEPTH);
    assert_eq!(r.to_json(), json);
    let back = RunResult::from_json(&json).expect("parses back");
    assert!(back == r, "JSON round trip");
    // A value on its own, not buffered by serde: each level grows the stack.
    let mut de = serde_json::Deserializer::from_str(&json[json.find("\"output\":[").unwrap() + 10..]);
    de.disable_recursion_limit();
    let v: ValueView = serde::Deserialize::deserialize(&mut de).expect("a value parses");
    assert!(v == deep_value(ValueView::Int(7)));
}

/// Comparison (`==` as the oracle and assertions use it), `=`, cloning and
/// hashing of 1,000,000-deep values.
#[test]
fn a_value_1000000_deep_compares_clones_and_hashes() {
    use std::hash::{BuildHasher, RandomState};
    let a = deep_value(ValueView::Int(1));
    let b = a.clone();
    assert!(a == b);
    assert_eq!(a.equal(&b), Ok(true));
    let c = deep_value(ValueView::Int(2));
    assert!(a != c);
    assert_eq!(a.equal(&c), Ok(false));
    let s = RandomState::new();
    assert_eq!(s.hash_one(&a), s.hash_one(&b));
    assert_ne!(s.hash_one(&a), s.hash_one(&c));
}

/// Printing: display, `{:?}`, a trace line and an outcome line.
#[test]
fn a_value_1000000_deep_prints() {
    let v = deep_value(ValueView::Unit);
    let shown = v.to_string();
    assert_eq!(shown.len(), "(list ".len() * VALUE_DEPTH + "unit".len() + VALUE_DEPTH);
    let debug = format!("{v:?}");
    assert!(debug.starts_with("List([List([") && debug.ends_with("])])"));
    let e = kont_spec::Event::Perform { dispatch: 1, effect: ValueView::effect("Ping", v.clone()), site: 0 };
    assert!(e.to_string().starts_with("perform d1 Ping (list (list"));
    assert!(Outcome::Error { error: deep_error(), site: 0 }.to_string().starts_with("error (error \"deep\" (list"));
    assert!(format!("{e:?}").starts_with("Perform { dispatch: 1, effect: Effect"));
}

/// `kont run --traceback`: the renderer links flights by comparing error values.
#[test]
fn a_traceback_of_an_error_1000000_deep_renders() {
    use kont_spec::{BoundaryKind, Event};
    let e = deep_error();
    let trace = vec![
        Event::Install { scope: 1, kind: BoundaryKind::Handler, name: "h".into(), copy_of: None },
        Event::Raise { error: e.clone(), site: 0 },
        Event::Catch { error: e.clone(), site: 1 },
        Event::Raise { error: e.clone(), site: 2 },
        Event::Unwind { scope: 1, error: e.clone() },
    ];
    let tb = kont_spec::traceback::render(&trace, &Outcome::Error { error: e, site: 2 }, None).expect("an error");
    let lines: Vec<&str> = tb.lines().collect();
    assert_eq!(lines[..5], ["traceback (most recent last):", "  raise", "  caught", "  re-raise", "  left s1 \"h\""]);
    drop(trace);
}

/// A program whose value is `depth` lists deep (a tail-recursive loop).
fn build(depth: usize) -> String {
    format!("(letrec ((build (n acc) (if (= n 0) acc (build (- n 1) (list acc))))) (build {depth} 1))")
}

/// `kont check`: an expected value 1,000,000 deep is parsed, compared with
/// the outcome (equal, then different), reported, and two engines' results
/// are compared with each other; the script drops safely.
#[test]
fn kont_check_compares_outcomes_and_expected_values_1000000_deep() {
    use kont_difftest::corpus::{disagreement, run_case};
    use kont_spec::script::Script;
    let expected = deep_value(ValueView::Int(1)).to_string();
    let text = |leaf: &str| {
        format!(
            "(test \"deep\" (limits :fuel 100000000 :depth 1000000) (program {}) (value {}))",
            build(VALUE_DEPTH),
            expected.replacen("1)", &format!("{leaf})"), 1)
        )
    };
    let s = Script::parse(std::path::Path::new("deep.kont"), &text("1")).unwrap_or_else(|e| panic!("{e}"));
    let reference: &dyn Engine = &kont_reference::Reference;
    let report = run_case(&s.path, &s.cases[0], &[reference, reference]);
    assert!(report.passed(), "{:?}", report.failures.iter().map(|f| &f[..f.len().min(200)]).collect::<Vec<_>>());

    let wrong = Script::parse(std::path::Path::new("deep.kont"), &text("2")).unwrap();
    let report = run_case(&wrong.path, &wrong.cases[0], &[reference]);
    assert_eq!(report.failures.len(), 1);
    assert!(report.failures[0].starts_with("expected value (list (list"));

    let r = reference.run(&s.cases[0].program, s.cases[0].limits(Limits::DEFAULT), RunOptions { trace: true });
    let mut other = r.clone();
    assert_eq!(disagreement(&r, &other), None);
    other.outcome = Outcome::Value { value: deep_value(ValueView::Int(2)) };
    assert!(disagreement(&r, &other).is_some_and(|d| d.starts_with("outcome value (list")));
    drop((s, wrong, r, other));
}
