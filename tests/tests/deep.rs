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
