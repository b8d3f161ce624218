//! Targeted templates: small scenes for the scheduler and the cross-run path
//! that random composition almost never builds (interaction coverage,
//! `interactions.rs`): several tasks queued on one semaphore, a task
//! cancelled while parked and the scheduling that follows, timers due at
//! one tick, a stale continuation reaching each continuation form. The parts
//! of each scene (priorities, what is waited for, what follows) are random.

use super::*;

productions! {
    /// A scheduler scene.
    enum SceneProd {
        /// Tasks queued on a held semaphore, then released.
        Contention,
        /// A task parked on something, cancelled, then more scheduling.
        CancelParked,
        /// Tasks awaiting the same number of ticks.
        SameTick,
    }
}

productions! {
    /// What a task parks on.
    enum WaitProd {
        Promise,
        Task,
        Semaphore,
        Await,
        Gather,
        Race,
    }
}

productions! {
    /// A use of `prev`, another run's value.
    enum StaleProd {
        Resume,
        Transfer,
        ResumeThrow,
        TransferThrow,
        Pass,
        /// `pass` from a clause of this run, with a replacement effect.
        PassInClause,
        Envelope,
        Eq,
        Live,
        Get,
        Set,
    }
}

/// `(try body (catch err alt))`.
fn caught(body: Expr, alt: Expr) -> Expr {
    e(ExprKind::Try(Box::new(TryExpr { body, catch: Some(("err".into(), alt)), finally: None })))
}

/// `(try body (catch err (error-tag err)))`: the error's tag is the value.
fn tagged(body: Expr) -> Expr {
    caught(body, prim(Prim::ErrorTag, vec![var("err")]))
}

fn spawn_at(body: Expr, prio: i64) -> Expr {
    if prio == 10 {
        api("spawn", vec![func(&["_"], body)])
    } else {
        api("spawn-at", vec![func(&["_"], body), int(prio)])
    }
}

impl<S: Source> G<'_, S> {
    fn priority(&mut self) -> i64 {
        *self.s.pick(&[10, 10, 5, 20])
    }

    /// A scheduler scene (needs `sc.sched`).
    pub(super) fn scene(&mut self, sc: &Scope) -> Expr {
        match choose(self.s, SceneProd::ALL, |_| 1).expect("weights are positive") {
            SceneProd::Contention => self.contention(sc),
            SceneProd::CancelParked => self.cancel_parked(sc),
            SceneProd::SameTick => self.same_tick(sc),
        }
    }

    /// The root holds a semaphore of one permit while two to four tasks queue
    /// on it, maybe cancels one, then releases it: the queue's order shows in
    /// the output and the marks.
    fn contention(&mut self, sc: &Scope) -> Expr {
        let sem = self.name("sem");
        let n = 2 + self.s.below(3) as usize;
        let ts: Vec<String> = (0..n).map(|_| self.name("t")).collect();
        let mut waits = Vec::new();
        for (i, t) in ts.iter().enumerate() {
            let work = if self.s.chance(40) { api("yield", vec![]) } else { unit() };
            let region = e(ExprKind::Try(Box::new(TryExpr {
                body: seq(vec![emit(int(i as i64)), work, int(i as i64)]),
                catch: None,
                finally: Some(api("release", vec![var(&sem)])),
            })));
            let _ = t;
            waits.push(seq(vec![api("acquire", vec![var(&sem)]), region]));
        }
        let mut tail = vec![api("yield", vec![])];
        if self.s.chance(40) {
            let victim = self.s.pick(&ts).clone();
            tail.push(api("cancel", vec![var(&victim)]));
        }
        tail.push(api("release", vec![var(&sem)]));
        let total = ts
            .iter()
            .fold(self.int(sc), |acc, t| prim(Prim::Add, vec![acc, caught(api("wait", vec![var(t)]), int(100))]));
        tail.push(total);
        let mut body = seq(tail);
        for (t, w) in ts.iter().zip(waits).rev() {
            let prio = self.priority();
            body = let_(t, spawn_at(w, prio), body);
        }
        let_(&sem, api("new-semaphore", vec![int(1)]), seq(vec![api("acquire", vec![var(&sem)]), body]))
    }

    /// What a task parks on, given a promise `p`, a held semaphore `sem` and a slow task `slow`.
    fn parking_wait(&mut self, p: &str, sem: &str, slow: &str) -> Expr {
        match choose(self.s, WaitProd::ALL, |_| 1).expect("weights are positive") {
            WaitProd::Promise => api("wait", vec![var(p)]),
            WaitProd::Task => api("wait", vec![var(slow)]),
            WaitProd::Semaphore => seq(vec![api("acquire", vec![var(sem)]), api("release", vec![var(sem)]), int(1)]),
            WaitProd::Await => api("await", vec![int(1 + self.s.below(4) as i64), int(2)]),
            WaitProd::Gather => {
                prim(Prim::Nth, vec![api("gather", vec![prim(Prim::List, vec![var(p), var(slow)])]), int(0)])
            }
            WaitProd::Race => api("race", vec![prim(Prim::List, vec![var(slow), var(p)])]),
        }
    }

    /// A task parks (maybe catching its cancellation and parking again), the
    /// root cancels it while running, then settles, releases, reads the clock
    /// and waits: whatever the cancel left behind shows.
    fn cancel_parked(&mut self, sc: &Scope) -> Expr {
        let (p, sem, slow, t) = (self.name("p"), self.name("sem"), self.name("slow"), self.name("t"));
        let again = self.s.chance(40);
        // Catching the cancel of an await and parking again: the old timer must not wake it.
        let first = if again && self.s.chance(50) {
            api("await", vec![int(1 + self.s.below(3) as i64), int(2)])
        } else {
            self.parking_wait(&p, &sem, &slow)
        };
        let body = if again {
            let again = self.parking_wait(&p, &sem, &slow);
            caught(first, seq(vec![emit(prim(Prim::ErrorTag, vec![var("err")])), again]))
        } else {
            first
        };
        let prio = self.priority();
        let mut after = vec![api("yield", vec![]), api("cancel", vec![var(&t)])];
        let mut steps = vec![
            api("complete", vec![var(&p), int(5)]),
            api("release", vec![var(&sem)]),
            emit(api("now", vec![])),
            api("await", vec![int(self.s.below(5) as i64), int(0)]),
            api("yield", vec![]),
        ];
        // A random order of the steps, some left out.
        while !steps.is_empty() {
            let i = self.s.below(steps.len() as u32) as usize;
            let step = steps.remove(i);
            if self.s.chance(75) {
                after.push(step);
            }
        }
        after.push(prim(
            Prim::Add,
            vec![prim(Prim::Add, vec![caught(api("wait", vec![var(&t)]), int(100)), api("now", vec![])]), self.int(sc)],
        ));
        let slow_body = seq(vec![api("await", vec![int(1 + self.s.below(6) as i64), int(3)]), int(3)]);
        let_(
            &p,
            api("new-promise", vec![]),
            let_(
                &sem,
                api("new-semaphore", vec![int(1)]),
                seq(vec![
                    api("acquire", vec![var(&sem)]),
                    let_(&slow, spawn_at(slow_body, 10), let_(&t, spawn_at(body, prio), seq(after))),
                ]),
            ),
        )
    }

    /// Two or three tasks awaiting the same ticks: timers due together fire in registration order.
    fn same_tick(&mut self, sc: &Scope) -> Expr {
        let ticks = int(1 + self.s.below(3) as i64);
        let n = 2 + self.s.below(2) as usize;
        let ts: Vec<String> = (0..n).map(|_| self.name("t")).collect();
        let total = ts.iter().fold(api("now", vec![]), |acc, t| prim(Prim::Add, vec![acc, api("wait", vec![var(t)])]));
        let mut body = prim(Prim::Add, vec![total, self.int(sc)]);
        for (i, t) in ts.iter().enumerate().rev() {
            let prio = self.priority();
            let work = seq(vec![api("await", vec![ticks.clone(), int(i as i64)]), emit(int(i as i64)), int(i as i64)]);
            body = let_(t, spawn_at(work, prio), body);
        }
        body
    }

    /// The second run of a two-run case: a use of `prev` (a continuation or
    /// cell of the first run) under a `try`, its error's tag the value;
    /// with `prelude`, from a task under the scheduler.
    pub(super) fn stale_use(&mut self, prelude: bool) -> Expr {
        let prev = || var("prev");
        let v = int(self.small());
        let use_ = match choose(self.s, StaleProd::ALL, |_| 1).expect("weights are positive") {
            StaleProd::Resume => resume(ResumeMode::Resume, false, prev(), v),
            StaleProd::Transfer => resume(ResumeMode::Transfer, false, prev(), v),
            StaleProd::ResumeThrow => resume(ResumeMode::Resume, true, prev(), error("x", v)),
            StaleProd::TransferThrow => resume(ResumeMode::Transfer, true, prev(), error("x", v)),
            StaleProd::Pass => e(ExprKind::Pass { k: Box::new(prev()), effect: None }),
            StaleProd::PassInClause => {
                let pass = e(ExprKind::Pass { k: Box::new(prev()), effect: Some(Box::new(effect("A", v))) });
                e(ExprKind::WithHandler(Box::new(HandlerExpr {
                    name: None,
                    only: None,
                    native: None,
                    clauses: vec![Clause { label: Some(label("A")), param: "x".into(), k: "k".into(), body: pass }],
                    body: perform("A", int(1)),
                })))
            }
            StaleProd::Envelope => resume(ResumeMode::Resume, false, new_cont(func(&["z"], var("z")), Some(prev())), v),
            StaleProd::Eq => {
                let other = if self.s.chance(50) { prev() } else { new_cont(func(&["z"], var("z")), None) };
                if_(prim(Prim::Eq, vec![prev(), other]), int(1), int(2))
            }
            StaleProd::Live => prim(Prim::IsLive, vec![prev()]),
            StaleProd::Get => prim(Prim::Get, vec![prev()]),
            StaleProd::Set => prim(Prim::Set, vec![prev(), v]),
        };
        let body = tagged(use_);
        if prelude {
            let t = self.name("t");
            let task =
                let_(&t, spawn_at(body, self.priority()), seq(vec![api("yield", vec![]), api("wait", vec![var(&t)])]));
            api("run-scheduled", vec![func(&["_"], tagged(task))])
        } else {
            body
        }
    }
}
