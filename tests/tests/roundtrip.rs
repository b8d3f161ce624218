//! The printer's output parses back to the same tree, and JSON round-trips,
//! for generated trees of every form (property tests).

#![forbid(unsafe_code)]

use kont_spec::ast::*;
use kont_spec::syntax::{parse_program, print_program};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![Just("x".to_string()), Just("k".to_string()), Just("acc".to_string()), "[a-z][a-z0-9?!*-]{0,6}"]
        .prop_filter("not a keyword or primitive", |s| kont_spec::syntax::is_var_name(s))
}

fn label() -> impl Strategy<Value = Label> {
    prop_oneof![Just("Ping".to_string()), Just("Get".to_string()), "[A-Z][A-Za-z0-9_-]{0,5}"].prop_map(Label)
}

fn labels() -> impl Strategy<Value = Option<Vec<Label>>> {
    proptest::option::of(proptest::collection::vec(label(), 0..3))
}

fn lit() -> impl Strategy<Value = Lit> {
    prop_oneof![
        Just(Lit::Unit),
        any::<bool>().prop_map(Lit::Bool),
        any::<i64>().prop_map(Lit::Int),
        // Any text, including quotes, backslashes, newlines and control characters.
        any::<String>().prop_map(Lit::Str),
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![lit().prop_map(|l| Expr::new(ExprKind::Lit(l))), name().prop_map(|n| Expr::new(ExprKind::Var(n)))]
}

fn distinct(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(6, 96, 4, |e| {
        let b = |e: Expr| Box::new(e);
        let es = proptest::collection::vec(e.clone(), 1..4);
        prop_oneof![
            (name(), e.clone(), e.clone()).prop_map(move |(name, v, body)| Expr::new(ExprKind::Let {
                name,
                value: b(v),
                body: b(body)
            })),
            es.clone().prop_map(|es| Expr::new(ExprKind::Do(es))),
            (e.clone(), e.clone(), e.clone()).prop_map(move |(c, t, f)| Expr::new(ExprKind::If {
                cond: b(c),
                then: b(t),
                els: b(f)
            })),
            (proptest::collection::vec(name(), 0..3), e.clone())
                .prop_map(move |(ps, body)| Expr::new(ExprKind::Fn(Lambda { params: distinct(ps), body: b(body) }))),
            (proptest::collection::vec((name(), proptest::collection::vec(name(), 0..3), e.clone()), 1..3), e.clone())
                .prop_map(move |(fs, body)| {
                    let mut funs: Vec<FunDef> = Vec::new();
                    for (name, ps, body) in fs {
                        if !funs.iter().any(|f| f.name == name) {
                            funs.push(FunDef { name, lambda: Lambda { params: distinct(ps), body: b(body) } });
                        }
                    }
                    Expr::new(ExprKind::Letrec { funs: funs.into(), body: b(body) })
                }),
            (e.clone(), proptest::collection::vec(e.clone(), 0..3))
                .prop_map(move |(f, args)| Expr::new(ExprKind::Call { func: b(f), args })),
            (proptest::sample::select(Prim::ALL), proptest::collection::vec(e.clone(), 0..4)).prop_map(
                |(op, mut args)| {
                    if let Some(n) = op.arity() {
                        args.resize_with(n, || Expr::new(ExprKind::Lit(Lit::Unit)));
                    }
                    Expr::new(ExprKind::Prim { op, args })
                }
            ),
            e.clone().prop_map(move |x| Expr::new(ExprKind::Emit(b(x)))),
            ("[ -~]{0,6}", e.clone()).prop_map(move |(tag, x)| Expr::new(ExprKind::Mark { tag, arg: b(x) })),
            e.clone().prop_map(move |x| Expr::new(ExprKind::Raise(b(x)))),
            e.clone().prop_map(move |x| Expr::new(ExprKind::PerformValue(b(x)))),
            (label(), e.clone()).prop_map(move |(label, arg)| Expr::new(ExprKind::Perform { label, arg: b(arg) })),
            (label(), e.clone()).prop_map(move |(label, arg)| Expr::new(ExprKind::MakeEffect { label, arg: b(arg) })),
            (any::<bool>(), any::<bool>(), e.clone(), e.clone()).prop_map(move |(t, th, k, arg)| {
                let mode = if t { ResumeMode::Transfer } else { ResumeMode::Resume };
                Expr::new(ExprKind::Resume { mode, throw: th, k: b(k), arg: b(arg) })
            }),
            (e.clone(), proptest::option::of(e.clone()))
                .prop_map(move |(k, eff)| Expr::new(ExprKind::Pass { k: b(k), effect: eff.map(b) })),
            (e.clone(), proptest::option::of(e.clone()))
                .prop_map(move |(f, k)| Expr::new(ExprKind::NewCont { func: b(f), envelope: k.map(b) })),
            (e.clone(), proptest::option::of((name(), e.clone())), proptest::option::of(e.clone()))
                .prop_filter("try needs catch or finally", |(_, c, f)| c.is_some() || f.is_some())
                .prop_map(|(body, catch, finally)| Expr::new(ExprKind::Try(Box::new(TryExpr {
                    body,
                    catch,
                    finally
                })))),
            (
                proptest::option::of("[ -~]{0,8}"),
                (labels(), proptest::option::of("[a-z]{1,6}")),
                proptest::collection::vec((proptest::option::of(label()), name(), name(), e.clone()), 1..4),
                e.clone()
            )
                .prop_map(|(name, (only, native), cs, body)| {
                    let mut clauses: Vec<Clause> = Vec::new();
                    for (label, param, k, body) in cs {
                        if param != k && !clauses.iter().any(|c| c.label == label) {
                            clauses.push(Clause { label, param, k, body });
                        }
                    }
                    if clauses.is_empty() {
                        clauses.push(Clause {
                            label: None,
                            param: "x".into(),
                            k: "k".into(),
                            body: Expr::new(ExprKind::Lit(Lit::Unit)),
                        });
                    }
                    // The canonical order puts the catch-all last.
                    clauses.sort_by_key(|c| c.label.is_none());
                    Expr::new(ExprKind::WithHandler(Box::new(HandlerExpr { name, only, native, clauses, body })))
                }),
            (any::<bool>(), labels(), e.clone(), e.clone()).prop_map(|(obs, only, func, body)| {
                let kind = if obs { InterceptKind::Observe } else { InterceptKind::Intercept };
                Expr::new(ExprKind::WithIntercept(Box::new(InterceptExpr { kind, only, func, body })))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printed_programs_parse_back_to_the_same_tree(body in expr()) {
        let p = Program::new(body);
        let text = print_program(&p);
        let (q, map) = parse_program(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&p, &q, "printed:\n{}", text);
        prop_assert_eq!(map.spans.len(), p.size());
    }

    #[test]
    fn json_round_trips(body in expr()) {
        let p = Program::new(body);
        let q = Program::from_json(&p.to_json()).expect("valid JSON");
        prop_assert_eq!(p, q);
    }
}

/// Parser ids are the pre-order ids `renumber` assigns.
#[test]
fn parser_ids_are_preorder() {
    let src = "(let ((x 1) (y (fn (a) (+ a 1)))) (with-handler ((Ping (v k) (resume k v))) (y (perform Ping x))))";
    let (p, map) = parse_program(src).unwrap();
    let mut q = p.clone();
    q.renumber();
    assert_eq!(p, q);
    let mut ids = Vec::new();
    p.body.walk(&mut |e| ids.push(e.id));
    assert_eq!(ids, (0..ids.len() as u32).collect::<Vec<_>>());
    assert_eq!(map.spans.len(), ids.len());
    assert_eq!(map.describe(0), "1:1");
}
