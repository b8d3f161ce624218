//! Programs for the standard prelude (SPEC.md §13): tasks, promises,
//! semaphores, virtual-time await and the cache.

use super::*;

productions! {
    /// How a task waits for handles in scope.
    enum JoinProd {
        Wait,
        /// `nth` of `gather` over one to three handles.
        Gather,
        Race,
    }
}

fn join_weight(p: JoinProd) -> u32 {
    match p {
        JoinProd::Wait => 5,
        JoinProd::Gather => 3,
        JoinProd::Race => 2,
    }
}

productions! {
    /// What a program does with the cache.
    enum CacheProd {
        /// Put, then get.
        PutGet,
        /// Get if it exists, else a value.
        GetIfExists,
        /// Get, maybe a miss: an error at the get.
        Get,
        /// Put under one key, then look up a different key that `show`s alike.
        Alike,
    }
}

impl<S: Source> G<'_, S> {
    /// A program for the standard prelude: the root body under `run-scheduled`
    /// (or just `run-await`), maybe inside an interceptor or observer, a total
    /// user handler and `with-cache`, outermost last.
    pub(super) fn concurrent_top(&mut self) -> Expr {
        let mut sc = Scope::default();
        // Continuations parked in its cells move between tasks.
        let binds = self.globals(&mut sc);
        let sched = self.s.chance(85);
        sc.cache = self.s.chance(50);
        let total = self.f.handlers && self.s.chance(80);
        if total {
            sc.handled = LABELS.to_vec();
        }
        let mut root = sc.clone();
        root.sched = sched;
        root.awaits = true;
        let main = self.int(&root);
        let mut body = api(if sched { "run-scheduled" } else { "run-await" }, vec![func(&["_"], main)]);
        // Outside the scheduler: it sees what reaches it from every task.
        if (self.f.observers || self.f.intercepts) && self.s.chance(40) {
            let observe = self.f.observers && (!self.f.intercepts || self.s.chance(50));
            body = self.intercept(&sc, body, observe);
        }
        if total {
            let outer = Scope { handled: Vec::new(), ..sc.clone() };
            body = self.handler(&outer, body, &LABELS, true);
        }
        if sc.cache {
            body = api("with-cache", vec![func(&["_"], body)]);
        }
        for (x, v) in binds.into_iter().rev() {
            body = let_(&x, v, body);
        }
        body
    }

    /// `(let ((t (spawn (fn (_) …)))) …)`: the task body sees what the spawn site sees.
    pub(super) fn spawn(&mut self, sc: &Scope) -> Expr {
        let t = self.name("t");
        let mut tsc = sc.clone();
        tsc.clause_k = None;
        let body = func(&["_"], self.int(&tsc));
        let task = if self.s.chance(20) {
            let prio = *self.s.pick(&[0, 5, 10, 20]);
            api("spawn-at", vec![body, int(prio)])
        } else {
            api("spawn", vec![body])
        };
        let mut inner = sc.clone();
        inner.tasks.push(t.clone());
        let rest = self.int(&inner);
        let_(&t, task, rest)
    }

    /// Wait for, gather or race task and promise handles in scope.
    pub(super) fn join(&mut self, sc: &Scope) -> Expr {
        let handles: Vec<String> = sc.tasks.iter().chain(&sc.promises).cloned().collect();
        let some = |s: &mut S| {
            let n = 1 + s.below(3) as usize;
            (0..n).map(|_| var(s.pick::<String>(&handles))).collect::<Vec<_>>()
        };
        match choose(self.s, JoinProd::ALL, join_weight).expect("weights are positive") {
            JoinProd::Wait => api("wait", vec![var(self.s.pick::<String>(&handles))]),
            JoinProd::Gather => {
                let hs = some(self.s);
                let i = self.s.below(hs.len() as u32) as i64;
                prim(Prim::Nth, vec![api("gather", vec![prim(Prim::List, hs)]), int(i)])
            }
            JoinProd::Race => {
                let hs = some(self.s);
                api("race", vec![prim(Prim::List, hs)])
            }
        }
    }

    /// A cache key: strings, ints and booleans, some pairs that `show` alike
    /// but differ (`2` and `"2"`, `true` and `"true"`), a list and its text.
    pub(super) fn cache_key(&mut self) -> Expr {
        match self.s.below(9) {
            0 => string("k1"),
            1 => string("k2"),
            2 => int(2),
            3 => string("2"),
            4 => int(3),
            5 => string("3"),
            6 => e(ExprKind::Lit(Lit::Bool(true))),
            7 => string("true"),
            _ => prim(Prim::List, vec![int(2), string("k1")]),
        }
    }

    /// `(let ((p (new-promise))) …)`, usually with a task that settles it, maybe later.
    pub(super) fn promise(&mut self, sc: &Scope) -> Expr {
        let p = self.name("p");
        let mut inner = sc.clone();
        inner.promises.push(p.clone());
        let body = if self.s.chance(60) {
            let v = self.int(sc);
            let wait = if sc.awaits && self.s.chance(50) {
                vec![api("await", vec![int(self.s.below(4) as i64), unit()])]
            } else {
                Vec::new()
            };
            let settle = api("complete", vec![var(&p), v]);
            let t = self.name("t");
            let task = api("spawn", vec![func(&["_"], seq(wait.into_iter().chain([settle, int(0)]).collect()))]);
            inner.tasks.push(t.clone());
            let rest = self.int(&inner);
            let_(&t, task, rest)
        } else {
            self.int(&inner)
        };
        let_(&p, api("new-promise", vec![]), body)
    }

    /// Complete or fail a promise in scope (settling twice is an error, and must agree too).
    pub(super) fn settle(&mut self, sc: &Scope) -> Expr {
        let p = self.s.pick(&sc.promises).clone();
        let v = self.int(sc);
        if self.s.chance(25) {
            api("fail", vec![var(&p), error("pf", v)])
        } else {
            api("complete", vec![var(&p), v])
        }
    }

    /// `(let ((sem (new-semaphore n))) …)`; now and then with no permits.
    pub(super) fn semaphore(&mut self, sc: &Scope) -> Expr {
        let s = self.name("sem");
        let mut inner = sc.clone();
        inner.sems.push(s.clone());
        let n = if self.f.violations && self.s.chance(5) { 0 } else { 1 + self.s.below(3) as i64 };
        let body = self.int(&inner);
        let_(&s, api("new-semaphore", vec![int(n)]), body)
    }

    /// Acquire a semaphore, then work with a `finally` that releases it.
    pub(super) fn critical_region(&mut self, sc: &Scope) -> Expr {
        let s = self.s.pick(&sc.sems).clone();
        let body = self.int(sc);
        let region =
            e(ExprKind::Try(Box::new(TryExpr { body, catch: None, finally: Some(api("release", vec![var(&s)])) })));
        seq(vec![api("acquire", vec![var(&s)]), region])
    }

    /// Virtual time: `await`, `await-fail` or `now`.
    pub(super) fn await_(&mut self, sc: &Scope) -> Expr {
        let ticks = int(self.s.below(5) as i64);
        let v = self.int(sc);
        if self.s.chance(10) {
            api("await-fail", vec![ticks, error("af", v)])
        } else if self.s.chance(15) {
            prim(Prim::Add, vec![api("now", vec![]), v])
        } else {
            api("await", vec![ticks, v])
        }
    }

    /// A use of the cache.
    pub(super) fn cache_use(&mut self, sc: &Scope) -> Expr {
        let key = self.cache_key();
        let v = self.int(sc);
        match choose(self.s, CacheProd::ALL, |_| 1).expect("weights are positive") {
            CacheProd::PutGet => seq(vec![api("cache-put", vec![key.clone(), v]), api("cache-get", vec![key])]),
            CacheProd::GetIfExists => if_(api("cache-exists", vec![key.clone()]), api("cache-get", vec![key]), v),
            CacheProd::Get => api("cache-get", vec![key]),
            CacheProd::Alike => {
                let (a, b) = *self.s.pick(&[("2", 2), ("3", 3)]);
                let (put, look) = if self.s.chance(50) { (string(a), int(b)) } else { (int(b), string(a)) };
                let look = if self.s.chance(50) {
                    api("cache-get", vec![look])
                } else {
                    if_(api("cache-exists", vec![look]), int(1), int(0))
                };
                seq(vec![
                    api("cache-put", vec![put, int(self.small())]),
                    e(ExprKind::Try(Box::new(TryExpr {
                        body: look,
                        catch: Some(("err".into(), int(-1))),
                        finally: None,
                    }))),
                ])
            }
        }
    }
}
