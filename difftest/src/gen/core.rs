//! The core of the language: int-valued expressions and statements, `try`,
//! functions, loops, and deliberate violations.

use super::*;

productions! {
    /// What an int-valued expression can be.
    enum IntProd {
        Leaf,
        Arithmetic,
        If,
        Let,
        /// `do` with statements.
        Do,
        Perform,
        WithHandler,
        WithIntercept,
        WithObserve,
        /// An interceptor rewriting an effect to the label of a handler inside it.
        InterceptInner,
        Try,
        /// A function, called.
        Function,
        /// A `letrec` loop.
        Loop,
        Cell,
        /// Resume a continuation parked in a cell.
        StoredCont,
        NewCont,
        Violation,
        /// Use the clause's continuation again (one-shot violations).
        ReuseClauseK,
        Spawn,
        /// Wait for, gather or race tasks and promises.
        Join,
        Promise,
        Semaphore,
        /// Hold a semaphore around some work.
        CriticalRegion,
        Await,
        Cache,
        /// A targeted scheduler scene (`targeted.rs`).
        Scene,
    }
}

/// How often `p` is chosen for an int in scope `sc` (0: not available).
fn int_weight(f: Features, sc: &Scope, p: IntProd) -> u32 {
    let when = |on: bool, w: u32| if on { w } else { 0 };
    let joinable = !sc.tasks.is_empty() || !sc.promises.is_empty();
    match p {
        IntProd::Leaf => 6,
        IntProd::Arithmetic => 8,
        IntProd::If => 5,
        IntProd::Let => 6,
        IntProd::Do => 5,
        IntProd::Perform => when(f.handlers && !sc.handled.is_empty(), 14),
        IntProd::WithHandler => when(f.handlers, 14),
        IntProd::WithIntercept => when(f.intercepts, 4),
        IntProd::WithObserve => when(f.observers, 3),
        IntProd::InterceptInner => when(f.intercepts && f.handlers, 4),
        IntProd::Try => when(f.try_catch || f.finally, 5),
        IntProd::Function => when(f.functions, 4),
        IntProd::Loop => when(f.loops, 3),
        IntProd::Cell => when(f.cells && !sc.cells.is_empty(), 4),
        IntProd::StoredCont => when(f.stored && !sc.kcells.is_empty(), 3),
        IntProd::NewCont => when(f.new_cont, 3),
        IntProd::Violation => when(f.violations, 2),
        IntProd::ReuseClauseK => when(f.violations && sc.clause_k.is_some(), 2),
        IntProd::Spawn => when(sc.sched, 14),
        IntProd::Join => when(sc.sched && joinable, 9),
        IntProd::Promise => when(sc.sched, 3),
        IntProd::Semaphore => when(sc.sched, 2),
        IntProd::CriticalRegion => when(!sc.sems.is_empty(), 4),
        IntProd::Await => when(sc.awaits, 5),
        IntProd::Cache => when(sc.cache, 5),
        IntProd::Scene => when(sc.sched, 3),
    }
}

productions! {
    /// What a statement (evaluated for its effect) can be.
    enum StmtProd {
        /// An int expression, its value dropped.
        Int,
        /// `emit` or `mark`.
        Emit,
        SetCell,
        Perform,
        /// Scheduler-like transport: resume a parked continuation from here.
        ResumeStored,
        Yield,
        Cancel,
        /// Complete or fail a promise (settling twice is an error, and must agree too).
        Settle,
        CacheDelete,
        /// Release a semaphore, maybe once too often.
        Release,
    }
}

fn stmt_weight(f: Features, sc: &Scope, p: StmtProd) -> u32 {
    let when = |on: bool, w: u32| if on { w } else { 0 };
    match p {
        StmtProd::Int => 1,
        StmtProd::Emit => when(f.emit, 2),
        StmtProd::SetCell => when(f.cells && !sc.cells.is_empty(), 1),
        StmtProd::Perform => when(f.handlers && !sc.handled.is_empty(), 1),
        StmtProd::ResumeStored => when(f.stored && !sc.kcells.is_empty(), 1),
        StmtProd::Yield => when(sc.sched, 1),
        StmtProd::Cancel => when(sc.sched && !sc.tasks.is_empty(), 1),
        StmtProd::Settle => when(!sc.promises.is_empty(), 1),
        StmtProd::CacheDelete => when(sc.cache, 1),
        StmtProd::Release => when(f.violations && !sc.sems.is_empty(), 1),
    }
}

productions! {
    /// A deliberate fault of the program.
    enum ViolationProd {
        Unhandled,
        NotAContinuation,
        TypeError,
        NotAFunction,
        Arity,
        IfOnInt,
        Overflow,
        Index,
        RaiseNonError,
        /// Transfer or pass, usually with no clause activation to leave.
        Outside,
        PerformNonEffect,
    }
}

fn violation_weight(p: ViolationProd) -> u32 {
    match p {
        ViolationProd::Outside => 2,
        ViolationProd::Unhandled
        | ViolationProd::NotAContinuation
        | ViolationProd::TypeError
        | ViolationProd::NotAFunction
        | ViolationProd::Arity
        | ViolationProd::IfOnInt
        | ViolationProd::Overflow
        | ViolationProd::Index
        | ViolationProd::RaiseNonError
        | ViolationProd::PerformNonEffect => 1,
    }
}

impl<S: Source> G<'_, S> {
    /// The whole program: cells, an outer handler set, then an int body.
    pub(super) fn top(&mut self) -> Expr {
        let mut sc = Scope::default();
        let binds = self.globals(&mut sc);
        let mut body = self.int(&sc);
        // Usually an outermost handler takes every label, so most performs are handled.
        if self.f.handlers && self.s.chance(80) {
            let all = LABELS.to_vec();
            body = self.handler(&sc, body, &all, true);
        }
        // A parked continuation resumed at the end: late, foreign resumption.
        if self.f.stored && self.s.chance(50) {
            let kc = sc.kcells[0].clone();
            body = prim(Prim::Add, vec![body, self.resume_stored(&sc, &kc)]);
        }
        for (x, v) in binds.into_iter().rev() {
            body = let_(&x, v, body);
        }
        body
    }

    /// A deep non-tail recursion, to hit the depth limit.
    pub(super) fn deep_recursion(&mut self) -> Expr {
        let f = self.name("deep");
        let n = self.name("n");
        let body = if_(
            prim(Prim::Le, vec![var(&n), int(0)]),
            int(0),
            prim(Prim::Add, vec![int(1), call(var(&f), vec![prim(Prim::Sub, vec![var(&n), int(1)])])]),
        );
        e(ExprKind::Letrec {
            funs: vec![FunDef { name: f.clone(), lambda: Lambda { params: vec![n], body: Box::new(body) } }].into(),
            body: Box::new(call(var(&f), vec![int(100_000)])),
        })
    }

    pub(super) fn leaf(&mut self, sc: &Scope) -> Expr {
        if !sc.ints.is_empty() && self.s.chance(60) {
            let x = self.s.pick(&sc.ints).clone();
            return var(&x);
        }
        int(self.small())
    }

    /// An int-valued expression.
    pub(super) fn int(&mut self, sc: &Scope) -> Expr {
        self.budget -= 1;
        if self.budget <= 0 {
            return self.leaf(sc);
        }
        kont_spec::deep::grow(|| self.int_node(sc))
    }

    fn int_node(&mut self, sc: &Scope) -> Expr {
        let f = self.f;
        let p = choose(self.s, IntProd::ALL, |p| int_weight(f, sc, p)).expect("a leaf is always possible");
        match p {
            IntProd::Leaf => self.leaf(sc),
            IntProd::Arithmetic => {
                let op = *self.s.pick(&[Prim::Add, Prim::Add, Prim::Sub, Prim::Mul, Prim::Div, Prim::Mod]);
                let a = self.int(sc);
                let b = if matches!(op, Prim::Div | Prim::Mod) && !f.violations {
                    int(1 + self.s.below(4) as i64)
                } else {
                    self.int(sc)
                };
                prim(op, vec![a, b])
            }
            IntProd::If => {
                let op = *self.s.pick(&[Prim::Lt, Prim::Le, Prim::Eq, Prim::Gt, Prim::Ne]);
                let c = prim(op, vec![self.int(sc), self.int(sc)]);
                let t = self.int(sc);
                let e2 = self.int(sc);
                if_(c, t, e2)
            }
            IntProd::Let => {
                let x = self.name("x");
                let v = self.int(sc);
                let mut inner = sc.clone();
                inner.ints.push(x.clone());
                let body = self.int(&inner);
                let_(&x, v, body)
            }
            IntProd::Do => {
                let n = 1 + self.s.below(2);
                let mut es: Vec<Expr> = (0..n).map(|_| self.stmt(sc)).collect();
                es.push(self.int(sc));
                seq(es)
            }
            IntProd::Perform => {
                let l = *self.s.pick(&sc.handled);
                let arg = self.int(sc);
                perform(l, arg)
            }
            IntProd::WithHandler => self.with_handler(sc),
            IntProd::WithIntercept | IntProd::WithObserve => {
                let body = self.int(sc);
                self.intercept(sc, body, p == IntProd::WithObserve)
            }
            IntProd::InterceptInner => self.intercept_inner(sc),
            IntProd::Try => self.try_(sc),
            IntProd::Function => self.function_call(sc),
            IntProd::Loop => self.counting_loop(sc),
            IntProd::Cell => {
                let c = self.s.pick(&sc.cells).clone();
                if self.s.chance(50) {
                    prim(Prim::Get, vec![var(&c)])
                } else {
                    let v = self.int(sc);
                    seq(vec![prim(Prim::Set, vec![var(&c), v]), prim(Prim::Get, vec![var(&c)])])
                }
            }
            IntProd::StoredCont => {
                let kc = self.s.pick(&sc.kcells).clone();
                self.resume_stored(sc, &kc)
            }
            IntProd::NewCont => self.new_cont_use(sc),
            IntProd::Violation => self.violation(sc),
            IntProd::ReuseClauseK => self.reuse_clause_k(sc),
            IntProd::Spawn => self.spawn(sc),
            IntProd::Join => self.join(sc),
            IntProd::Promise => self.promise(sc),
            IntProd::Semaphore => self.semaphore(sc),
            IntProd::CriticalRegion => self.critical_region(sc),
            IntProd::Await => self.await_(sc),
            IntProd::Cache => self.cache_use(sc),
            IntProd::Scene => self.scene(sc),
        }
    }

    /// A statement: evaluated for its effect.
    pub(super) fn stmt(&mut self, sc: &Scope) -> Expr {
        let f = self.f;
        match choose(self.s, StmtProd::ALL, |p| stmt_weight(f, sc, p)).expect("`Int` is always possible") {
            StmtProd::Int => self.int(sc),
            StmtProd::Emit => {
                let v = self.int(sc);
                if self.s.chance(20) {
                    e(ExprKind::Mark { tag: "m".to_string(), arg: Box::new(v) })
                } else {
                    emit(v)
                }
            }
            StmtProd::SetCell => {
                let c = self.s.pick(&sc.cells).clone();
                let v = self.int(sc);
                prim(Prim::Set, vec![var(&c), v])
            }
            StmtProd::Perform => {
                let l = *self.s.pick(&sc.handled);
                let v = self.int(sc);
                perform(l, v)
            }
            StmtProd::ResumeStored => {
                let kc = self.s.pick(&sc.kcells).clone();
                self.resume_stored(sc, &kc)
            }
            StmtProd::Yield => api("yield", vec![]),
            StmtProd::Cancel => {
                let t = self.s.pick(&sc.tasks).clone();
                api("cancel", vec![var(&t)])
            }
            StmtProd::Settle => self.settle(sc),
            StmtProd::CacheDelete => {
                let key = self.cache_key();
                api("cache-delete", vec![key])
            }
            StmtProd::Release => {
                // Over-release, unless a holder is inside.
                let s = self.s.pick(&sc.sems).clone();
                api("release", vec![var(&s)])
            }
        }
    }

    pub(super) fn try_(&mut self, sc: &Scope) -> Expr {
        let body = if self.s.chance(30) {
            let v = self.int(sc);
            seq(vec![e(ExprKind::Raise(Box::new(error("t", v)))), int(0)])
        } else {
            self.int(sc)
        };
        let catch = if self.f.try_catch || !self.f.finally {
            let err = self.name("err");
            let h = if self.f.emit && self.s.chance(50) {
                seq(vec![emit(prim(Prim::ErrorTag, vec![var(&err)])), self.int(sc)])
            } else {
                prim(Prim::Add, vec![int(100), self.int(sc)])
            };
            Some((err, h))
        } else {
            None
        };
        let finally = if self.f.finally && (catch.is_none() || self.s.chance(50)) { Some(self.stmt(sc)) } else { None };
        let (catch, finally) =
            if catch.is_none() && finally.is_none() { (None, Some(unit())) } else { (catch, finally) };
        e(ExprKind::Try(Box::new(TryExpr { body, catch, finally })))
    }

    pub(super) fn function_call(&mut self, sc: &Scope) -> Expr {
        if !sc.fns.is_empty() && self.s.chance(50) {
            let (f, arity) = self.s.pick(&sc.fns).clone();
            let args = (0..arity).map(|_| self.int(sc)).collect();
            return call(var(&f), args);
        }
        let f = self.name("f");
        let arity = self.s.below(3) as usize;
        let params: Vec<String> = (0..arity).map(|_| self.name("p")).collect();
        let mut fsc = sc.clone();
        fsc.ints.extend(params.iter().cloned());
        fsc.clause_k = None;
        let body = self.int(&fsc);
        let ps: Vec<&str> = params.iter().map(String::as_str).collect();
        let value = func(&ps, body);
        let mut inner = sc.clone();
        inner.fns.push((f.clone(), arity));
        let args = (0..arity).map(|_| self.int(sc)).collect();
        let use_ = prim(Prim::Add, vec![call(var(&f), args), self.int(&inner)]);
        let_(&f, value, use_)
    }

    /// `(letrec ((loop (n acc) …)) (loop N 0))`: effects in a bounded loop.
    pub(super) fn counting_loop(&mut self, sc: &Scope) -> Expr {
        let f = self.name("loop");
        let n = self.name("n");
        let acc = self.name("acc");
        let mut inner = sc.clone();
        inner.ints.extend([n.clone(), acc.clone()]);
        inner.clause_k = None;
        let step = self.int(&inner);
        let body = if_(
            prim(Prim::Le, vec![var(&n), int(0)]),
            var(&acc),
            call(var(&f), vec![prim(Prim::Sub, vec![var(&n), int(1)]), prim(Prim::Add, vec![var(&acc), step])]),
        );
        // Mostly short; now and then long enough to run out of fuel (R-Fuel).
        let count = if self.s.chance(6) { 100_000 } else { 1 + self.s.below(6) as i64 };
        e(ExprKind::Letrec {
            funs: vec![FunDef { name: f.clone(), lambda: Lambda { params: vec![n, acc], body: Box::new(body) } }]
                .into(),
            body: Box::new(call(var(&f), vec![int(count), int(0)])),
        })
    }

    /// A deliberate fault of the program, so error paths are compared too.
    pub(super) fn violation(&mut self, sc: &Scope) -> Expr {
        let v = self.int(sc);
        match choose(self.s, ViolationProd::ALL, violation_weight).expect("weights are positive") {
            ViolationProd::Unhandled => perform("D", v),
            ViolationProd::NotAContinuation => resume(ResumeMode::Resume, false, int(5), v),
            ViolationProd::TypeError => prim(Prim::Add, vec![string("a"), v]),
            ViolationProd::NotAFunction => call(int(7), vec![v]),
            ViolationProd::Arity => call(func(&["a", "b"], int(1)), vec![v]),
            ViolationProd::IfOnInt => if_(v, int(1), int(2)),
            ViolationProd::Overflow => prim(Prim::Mul, vec![int(i64::MAX / 2), prim(Prim::Add, vec![v, int(3)])]),
            ViolationProd::Index => prim(Prim::Head, vec![prim(Prim::List, vec![])]),
            ViolationProd::RaiseNonError => e(ExprKind::Raise(Box::new(v))),
            ViolationProd::Outside => {
                let k = new_cont(func(&["z"], var("z")), None);
                if self.s.chance(50) {
                    resume(ResumeMode::Transfer, false, k, v)
                } else {
                    e(ExprKind::Pass { k: Box::new(k), effect: None })
                }
            }
            ViolationProd::PerformNonEffect => e(ExprKind::PerformValue(Box::new(v))),
        }
    }
}
