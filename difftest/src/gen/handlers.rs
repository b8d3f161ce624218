//! Handlers and their clauses, interceptors and observers, and what programs
//! do with continuations: resume, transfer, throw, pass, park, resume from
//! elsewhere, start unstarted ones, use one from another run.

use super::*;

productions! {
    /// What a clause does with its continuation `k`, once.
    enum ClauseProd {
        /// Non-tail: the clause gets the body's final value back.
        Resume,
        /// Non-tail, the answer bound and used.
        ResumeLet,
        /// Tail.
        Transfer,
        /// Tail, nested (the escape leaves a frame: P-Esc) or from a helper.
        TransferNested,
        ResumeThrow,
        TransferThrow,
        Pass,
        /// Pass with a replacement effect.
        PassReplaced,
        /// Re-perform: a new dispatch from here; its answer comes back to the clause.
        Reperform,
        /// Return without resuming: `k` is abandoned.
        Abandon,
        /// Park `k` for scheduler-like code elsewhere.
        Park,
        Raise,
    }
}

fn clause_weight(f: Features, outer: &Scope, p: ClauseProd) -> u32 {
    let when = |on: bool, w: u32| if on { w } else { 0 };
    match p {
        ClauseProd::Resume => when(f.non_tail, 2),
        ClauseProd::ResumeLet => when(f.non_tail, 1),
        ClauseProd::Transfer => when(f.transfer, 2),
        ClauseProd::TransferNested => when(f.transfer, 1),
        ClauseProd::ResumeThrow | ClauseProd::TransferThrow => when(f.throw, 1),
        ClauseProd::Pass | ClauseProd::PassReplaced => when(f.pass, 1),
        ClauseProd::Reperform => when(f.reperform && !outer.handled.is_empty(), 1),
        ClauseProd::Abandon => when(f.abandon, 1),
        ClauseProd::Park => when(f.stored && !outer.kcells.is_empty(), 1),
        ClauseProd::Raise => when(f.violations, 1),
    }
}

productions! {
    /// What an interceptor's function returns.
    enum InterceptProd {
        /// The effect unchanged.
        Same,
        /// Another effect.
        Replace,
        /// The effect, after a statement.
        AfterStmt,
        /// An effect around one it performs itself (outside its boundary).
        Perform,
        /// A violation: a non-effect result, or a raise.
        Violation,
    }
}

fn intercept_weight(f: Features, p: InterceptProd) -> u32 {
    match p {
        InterceptProd::Same | InterceptProd::Replace | InterceptProd::AfterStmt | InterceptProd::Perform => 1,
        InterceptProd::Violation => f.violations as u32,
    }
}

impl<S: Source> G<'_, S> {
    /// A first run that returns a continuation (or a cell) to the next run.
    pub(super) fn parking_program(&mut self) -> Expr {
        if self.s.chance(70) {
            let body = seq(vec![perform("A", int(1)), int(2)]);
            e(ExprKind::WithHandler(Box::new(HandlerExpr {
                name: None,
                only: None,
                native: None,
                clauses: vec![Clause { label: Some(label("A")), param: "x".into(), k: "k".into(), body: var("k") }],
                body,
            })))
        } else {
            prim(Prim::NewCell, vec![int(self.small())])
        }
    }

    /// A handler for one or two distinct labels around an int body.
    pub(super) fn with_handler(&mut self, sc: &Scope) -> Expr {
        // Consecutive labels from a random start: no retry loop, which a byte
        // source with no bytes left could not end.
        let n = 1 + self.s.below(2) as usize;
        let first = self.s.below(LABELS.len() as u32) as usize;
        let ls: Vec<&'static str> = (0..n).map(|i| LABELS[(first + i) % LABELS.len()]).collect();
        let mut inner = sc.clone();
        for l in &ls {
            if !inner.handled.contains(l) {
                inner.handled.push(l);
            }
        }
        inner.clause_k = None;
        let body = self.int(&inner);
        self.handler(sc, body, &ls, false)
    }

    /// `(with-handler …)` taking `labels`, around `body`. The outermost
    /// handler (`total`) takes everything with plain resumes.
    pub(super) fn handler(&mut self, sc: &Scope, body: Expr, labels: &[&'static str], total: bool) -> Expr {
        let mut clauses = Vec::new();
        let else_clause = !total && self.s.chance(15);
        for (i, l) in labels.iter().enumerate() {
            if else_clause && i == labels.len() - 1 {
                break;
            }
            let body = if total { self.simple_clause() } else { self.clause_body(sc, false) };
            clauses.push(Clause { label: Some(label(l)), param: "x".into(), k: "k".into(), body });
        }
        if else_clause {
            let body = self.clause_body(sc, true);
            clauses.push(Clause { label: None, param: "x".into(), k: "k".into(), body });
        }
        let only = if self.f.filters && !total && self.s.chance(30) {
            // A filter that admits some of the labels (maybe none of the clauses').
            let n = self.s.below(3) as usize;
            Some((0..n).map(|_| label(self.any_label())).collect::<Vec<_>>())
        } else {
            None
        };
        let name = if self.s.chance(20) { Some(self.name("h")) } else { None };
        e(ExprKind::WithHandler(Box::new(HandlerExpr { name, only, native: None, clauses, body })))
    }

    pub(super) fn simple_clause(&mut self) -> Expr {
        let v = prim(Prim::Add, vec![var("x"), int(self.small())]);
        if self.f.non_tail && self.s.chance(50) {
            resume(ResumeMode::Resume, false, var("k"), v)
        } else {
            resume(ResumeMode::Transfer, false, var("k"), v)
        }
    }

    /// A clause body: it does something with `k`, once.
    pub(super) fn clause_body(&mut self, outer: &Scope, is_else: bool) -> Expr {
        let mut sc = outer.clone();
        // The clause runs outside its handler: only outer handlers are in scope.
        sc.ints.push(if is_else { "xv".into() } else { "x".into() });
        sc.clause_k = Some("k".into());
        let f = self.f;
        let x = if is_else { prim(Prim::EffectPayload, vec![var("x")]) } else { var("x") };
        let v = self.int(&sc);
        // With no way to use k enabled (only possible without handlers' usual features), transfer.
        let p = choose(self.s, ClauseProd::ALL, |p| clause_weight(f, outer, p)).unwrap_or(ClauseProd::Transfer);
        let core = match p {
            ClauseProd::Resume => {
                prim(Prim::Add, vec![v, resume(ResumeMode::Resume, false, var("k"), prim(Prim::Add, vec![x, int(1)]))])
            }
            ClauseProd::ResumeLet => {
                let r = self.name("r");
                let mut inner = sc.clone();
                inner.ints.push(r.clone());
                let after = self.int(&inner);
                let_(&r, resume(ResumeMode::Resume, false, var("k"), v), prim(Prim::Add, vec![var(&r), after]))
            }
            ClauseProd::Transfer => resume(ResumeMode::Transfer, false, var("k"), prim(Prim::Add, vec![x, v])),
            ClauseProd::TransferNested => {
                if self.s.chance(50) {
                    prim(Prim::Add, vec![int(1), resume(ResumeMode::Transfer, false, var("k"), v)])
                } else {
                    call(func(&["kk"], resume(ResumeMode::Transfer, false, var("kk"), v)), vec![var("k")])
                }
            }
            ClauseProd::ResumeThrow => resume(ResumeMode::Resume, true, var("k"), error("boom", v)),
            ClauseProd::TransferThrow => resume(ResumeMode::Transfer, true, var("k"), error("boom", v)),
            ClauseProd::Pass => e(ExprKind::Pass { k: Box::new(var("k")), effect: None }),
            ClauseProd::PassReplaced => {
                let l2 = *self.s.pick(&LABELS);
                e(ExprKind::Pass { k: Box::new(var("k")), effect: Some(Box::new(effect(l2, v))) })
            }
            ClauseProd::Reperform => {
                let l2 = *self.s.pick(&outer.handled);
                let mode = if f.transfer { ResumeMode::Transfer } else { ResumeMode::Resume };
                resume(mode, false, var("k"), perform(l2, prim(Prim::Add, vec![x, v])))
            }
            ClauseProd::Abandon => v,
            ClauseProd::Park => {
                let kc = self.s.pick(&outer.kcells).clone();
                seq(vec![prim(Prim::Set, vec![var(&kc), var("k")]), v])
            }
            ClauseProd::Raise => e(ExprKind::Raise(Box::new(error("clause", v)))),
        };
        let body = if self.s.chance(25) {
            let st = self.stmt(&sc);
            seq(vec![st, core])
        } else {
            core
        };
        // A cleanup around the clause's work: transfers and passes leave through it.
        let body = if f.finally && self.s.chance(30) {
            let cleanup = self.stmt(&sc);
            e(ExprKind::Try(Box::new(TryExpr { body, catch: None, finally: Some(cleanup) })))
        } else {
            body
        };
        if is_else {
            let_("xv", prim(Prim::EffectPayload, vec![var("x")]), body)
        } else {
            body
        }
    }

    /// Use the clause's continuation again: one-shot violations.
    pub(super) fn reuse_clause_k(&mut self, sc: &Scope) -> Expr {
        let k = sc.clause_k.clone().expect("inside a clause");
        let v = self.int(sc);
        resume(ResumeMode::Resume, false, var(&k), v)
    }

    /// An interceptor (replacing the effect) or observer around `body`.
    pub(super) fn intercept(&mut self, sc: &Scope, body: Expr, observe: bool) -> Expr {
        // Under the scheduler, interceptors that rewrite effects mostly keep to
        // the user labels: the scheduler's effects rewritten are type errors.
        let user_only = self.f.concurrency && !observe && self.s.chance(80);
        let only = if user_only {
            Some(LABELS.iter().map(|l| label(l)).collect())
        } else if self.f.filters && self.s.chance(30) {
            Some(vec![label(self.any_label())])
        } else {
            None
        };
        let mut fsc = sc.clone();
        fsc.clause_k = None;
        let f = if observe {
            let st = if self.f.emit { emit(prim(Prim::EffectLabel, vec![var("e")])) } else { self.stmt(&fsc) };
            func(&["e"], st)
        } else {
            let features = self.f;
            let p = choose(self.s, InterceptProd::ALL, |p| intercept_weight(features, p)).expect("`Same` is possible");
            let result = match p {
                InterceptProd::Same => var("e"),
                InterceptProd::Replace => {
                    let l = *self.s.pick(&LABELS);
                    effect(l, prim(Prim::Add, vec![prim(Prim::EffectPayload, vec![var("e")]), int(1)]))
                }
                InterceptProd::AfterStmt => {
                    let st = self.stmt(&fsc);
                    seq(vec![st, var("e")])
                }
                InterceptProd::Perform => {
                    if fsc.handled.is_empty() {
                        var("e")
                    } else {
                        let l = *self.s.pick(&fsc.handled);
                        let l2 = *self.s.pick(&LABELS);
                        effect(l2, perform(l, prim(Prim::EffectPayload, vec![var("e")])))
                    }
                }
                InterceptProd::Violation => {
                    if self.s.chance(50) {
                        int(3)
                    } else {
                        e(ExprKind::Raise(Box::new(error("interceptor", int(1)))))
                    }
                }
            };
            func(&["e"], result)
        };
        let kind = if observe { InterceptKind::Observe } else { InterceptKind::Intercept };
        e(ExprKind::WithIntercept(Box::new(InterceptExpr { kind, only, func: f, body })))
    }

    /// Resume whatever continuation cell `kc` holds, if it is still live.
    pub(super) fn resume_stored(&mut self, sc: &Scope, kc: &str) -> Expr {
        let kk = self.name("kk");
        let v = self.int(sc);
        let alt = self.int(sc);
        let use_ = if self.f.transfer && sc.clause_k.is_some() && self.s.chance(20) {
            resume(ResumeMode::Transfer, false, var(&kk), v)
        } else {
            resume(ResumeMode::Resume, false, var(&kk), v)
        };
        // Without the liveness check now and then: a one-shot error when it was used.
        let body = if self.f.violations && self.s.chance(20) {
            use_
        } else {
            if_(prim(Prim::IsLive, vec![var(&kk)]), use_, alt)
        };
        let_(&kk, prim(Prim::Get, vec![var(kc)]), body)
    }

    /// An unstarted continuation, maybe under a parked continuation's envelope, resumed here.
    pub(super) fn new_cont_use(&mut self, sc: &Scope) -> Expr {
        let p = self.name("p");
        let mut fsc = sc.clone();
        fsc.ints.push(p.clone());
        fsc.clause_k = None;
        let body = self.int(&fsc);
        let f = func(&[&p], body);
        let arg = self.int(sc);
        if self.f.stored && !sc.kcells.is_empty() && self.s.chance(60) {
            let kc = self.s.pick(&sc.kcells).clone();
            let env = self.name("env");
            let k = new_cont(f, Some(var(&env)));
            let alt = self.int(sc);
            let_(
                &env,
                prim(Prim::Get, vec![var(&kc)]),
                if_(prim(Prim::IsLive, vec![var(&env)]), resume(ResumeMode::Resume, false, k, arg), alt),
            )
        } else if self.f.throw && self.s.chance(30) {
            // Thrown into before it starts: K-Start raises at once, `f` never runs.
            let mode = if self.s.chance(50) { ResumeMode::Resume } else { ResumeMode::Transfer };
            let thrown = resume(mode, true, new_cont(f, None), error("unstarted", arg));
            e(ExprKind::Try(Box::new(TryExpr { body: thrown, catch: Some(("err".into(), int(7))), finally: None })))
        } else {
            resume(ResumeMode::Resume, false, new_cont(f, None), arg)
        }
    }

    /// An interceptor that rewrites `from` to `to` around a handler that takes
    /// `to`: the rewritten effect goes on outward, past that handler, to one
    /// of the enclosing handlers that take `to`.
    pub(super) fn intercept_inner(&mut self, sc: &Scope) -> Expr {
        // With no enclosing handler, one around it takes the rewritten effect.
        let outer = sc.handled.is_empty();
        let to = if outer { self.any_label() } else { *self.s.pick(&sc.handled) };
        let from = *self.s.pick(&LABELS);
        let mut inner = sc.clone();
        inner.clause_k = None;
        if !inner.handled.contains(&to) {
            inner.handled.push(to);
        }
        let v = self.int(&inner);
        let body = seq(vec![emit(perform(from, v)), self.int(&inner)]);
        let clause = Clause {
            label: Some(label(to)),
            param: "x".into(),
            k: "k".into(),
            body: resume(ResumeMode::Transfer, false, var("k"), prim(Prim::Add, vec![var("x"), int(1000)])),
        };
        let handler = e(ExprKind::WithHandler(Box::new(HandlerExpr {
            name: None,
            only: None,
            native: None,
            clauses: vec![clause],
            body,
        })));
        let rewrite = func(&["e"], effect(to, prim(Prim::EffectPayload, vec![var("e")])));
        let intercepted = e(ExprKind::WithIntercept(Box::new(InterceptExpr {
            kind: InterceptKind::Intercept,
            only: Some(vec![label(from)]),
            func: rewrite,
            body: handler,
        })));
        if !outer {
            return intercepted;
        }
        let clause = Clause {
            label: Some(label(to)),
            param: "x".into(),
            k: "k".into(),
            body: resume(ResumeMode::Transfer, false, var("k"), prim(Prim::Add, vec![var("x"), int(1)])),
        };
        e(ExprKind::WithHandler(Box::new(HandlerExpr {
            name: None,
            only: None,
            native: None,
            clauses: vec![clause],
            body: intercepted,
        })))
    }
}
