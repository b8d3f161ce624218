//! Random well-scoped programs over the whole language.
//!
//! Programs are mostly well typed (ints flow through effects, handlers resume
//! with ints), so runs go deep instead of stopping at the first type error;
//! deliberate violations (double resume, unhandled effects, resuming a
//! non-continuation, type errors…) come in at a low rate because errors must
//! agree too. Swarm testing: each program enables a random subset of the
//! features, so rare combinations get weight.
//!
//! With `concurrency`, a program runs with the standard prelude (SPEC.md
//! §13): its root body runs under `run-scheduled` (or only `run-await`),
//! perhaps inside `with-cache`, and spawns tasks that wait, gather, race,
//! cancel, settle promises, hold semaphores, await and use the cache, with
//! user handlers, interceptors and observers around spawn sites and inside
//! tasks. Those cases also compare the VM's native handlers (§13.6).

mod source;

pub use source::{Bytes, Rng, Source};

use std::borrow::Cow;
use std::sync::OnceLock;

use kont_spec::ast::*;
use kont_spec::prelude::Prelude;
use kont_spec::syntax::SourceMap;
use kont_spec::{Limits, Program};

/// The labels programs use: few, so handlers overlap and filters matter.
const LABELS: [&str; 3] = ["A", "B", "C"];

/// Which parts of the language a program may use (swarm testing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    pub handlers: bool,
    pub non_tail: bool,
    pub transfer: bool,
    pub throw: bool,
    pub pass: bool,
    pub reperform: bool,
    pub abandon: bool,
    pub filters: bool,
    pub intercepts: bool,
    pub observers: bool,
    pub try_catch: bool,
    pub finally: bool,
    pub cells: bool,
    pub stored: bool,
    pub new_cont: bool,
    pub functions: bool,
    pub loops: bool,
    pub emit: bool,
    pub violations: bool,
    pub concurrency: bool,
}

impl Features {
    /// Every feature on or off with probability 1/2; handlers nearly always on.
    pub fn swarm(s: &mut impl Source) -> Features {
        let mut f = || s.chance(50);
        let mut x = Features {
            handlers: true,
            non_tail: f(),
            transfer: f(),
            throw: f(),
            pass: f(),
            reperform: f(),
            abandon: f(),
            filters: f(),
            intercepts: f(),
            observers: f(),
            try_catch: f(),
            finally: f(),
            cells: f(),
            stored: f(),
            new_cont: f(),
            functions: f(),
            loops: f(),
            emit: f(),
            violations: f(),
            concurrency: false,
        };
        x.handlers = s.chance(95);
        x.concurrency = s.chance(30);
        // Some way to reactivate a continuation keeps handlers interesting.
        if !(x.non_tail || x.transfer || x.throw || x.pass) {
            x.transfer = true;
        }
        x
    }

    pub fn all() -> Features {
        Features {
            handlers: true,
            non_tail: true,
            transfer: true,
            throw: true,
            pass: true,
            reperform: true,
            abandon: true,
            filters: true,
            intercepts: true,
            observers: true,
            try_catch: true,
            finally: true,
            cells: true,
            stored: true,
            new_cont: true,
            functions: true,
            loops: true,
            emit: true,
            violations: true,
            concurrency: true,
        }
    }
}

/// A generated test case: a program, maybe a first run whose value the
/// program receives as `prev`, and the limits to run it under.
#[derive(Clone, Debug)]
pub struct Case {
    /// The program as generated (without the prelude, when it uses one).
    pub program: Program,
    pub before: Option<Program>,
    pub limits: Limits,
    pub features: Features,
    /// Run `program` with the standard prelude.
    pub prelude: bool,
}

impl Case {
    /// The program to run: `program`, wrapped with the standard prelude when the case uses it.
    pub fn runnable(&self) -> Cow<'_, Program> {
        if self.prelude {
            Cow::Owned(with_std(&self.program))
        } else {
            Cow::Borrowed(&self.program)
        }
    }
}

/// `program` wrapped with the standard prelude.
pub fn with_std(program: &Program) -> Program {
    static STD: OnceLock<Prelude> = OnceLock::new();
    let std = STD.get_or_init(|| Prelude::load("std").expect("the standard prelude parses"));
    std.wrap(program.clone(), &SourceMap::default()).0
}

/// The fuel generated programs run with.
pub const FUEL: u64 = 20_000;

/// The fuel programs with the prelude run with: its clauses are kont code
/// (on every engine but the VM's natives), so a task switch costs hundreds.
pub const PRELUDE_FUEL: u64 = 400_000;

/// A case generated from raw bytes (what the fuzzer mutates).
#[derive(Clone, Debug)]
pub struct ArbitraryCase(pub Case);

impl<'a> arbitrary::Arbitrary<'a> for ArbitraryCase {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(ArbitraryCase(case(&mut Bytes(u))))
    }
}

/// The generator as a proptest strategy: bytes in, a case out; proptest
/// shrinks the bytes, and fewer or smaller bytes make smaller programs.
pub fn strategy() -> impl proptest::strategy::Strategy<Value = Case> {
    use proptest::prelude::*;
    proptest::collection::vec(any::<u8>(), 0..4096).prop_map(|bytes| {
        let mut u = arbitrary::Unstructured::new(&bytes);
        case(&mut Bytes(&mut u))
    })
}

/// Generate one case.
pub fn case(s: &mut impl Source) -> Case {
    let features = Features::swarm(s);
    case_with(s, features)
}

/// Generate one case with the given features.
pub fn case_with(s: &mut impl Source, features: Features) -> Case {
    let size = 12 + s.below(60) as i32;
    let mut g = G { s, f: features, budget: size, fresh: 0 };
    // Now and then: a tight depth limit (R-Depth), or a second run (K-Stale).
    if g.f.concurrency {
        let program = Program::new(g.concurrent_top());
        let limits = Limits { fuel: PRELUDE_FUEL, depth: 20_000 };
        return Case { program, before: None, limits, features, prelude: true };
    }
    let deep = g.f.violations && g.s.chance(3);
    let stale = g.s.chance(2);
    let body = if deep { g.deep_recursion() } else { g.top() };
    let (program, before) = if stale {
        let first = g.parking_program();
        let mut p = Program::new(g.stale_user());
        p.inputs = vec!["prev".into()];
        (p, Some(Program::new(first)))
    } else {
        (Program::new(body), None)
    };
    let limits = Limits { fuel: FUEL, depth: if deep { 400 } else { 20_000 } };
    Case { program, before, limits, features, prelude: false }
}

// ----- tiny constructors --------------------------------------------------

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind)
}
fn int(i: i64) -> Expr {
    e(ExprKind::Lit(Lit::Int(i)))
}
fn unit() -> Expr {
    e(ExprKind::Lit(Lit::Unit))
}
fn string(s: &str) -> Expr {
    e(ExprKind::Lit(Lit::Str(s.to_string())))
}
fn var(x: &str) -> Expr {
    e(ExprKind::Var(x.to_string()))
}
fn prim(op: Prim, args: Vec<Expr>) -> Expr {
    e(ExprKind::Prim { op, args })
}
fn let_(x: &str, value: Expr, body: Expr) -> Expr {
    e(ExprKind::Let { name: x.to_string(), value: Box::new(value), body: Box::new(body) })
}
fn seq(mut es: Vec<Expr>) -> Expr {
    if es.len() == 1 {
        es.pop().unwrap()
    } else {
        e(ExprKind::Do(es))
    }
}
fn if_(c: Expr, t: Expr, f: Expr) -> Expr {
    e(ExprKind::If { cond: Box::new(c), then: Box::new(t), els: Box::new(f) })
}
fn func(params: &[&str], body: Expr) -> Expr {
    e(ExprKind::Fn(Lambda { params: params.iter().map(|p| p.to_string()).collect(), body: Box::new(body) }))
}
fn call(f: Expr, args: Vec<Expr>) -> Expr {
    e(ExprKind::Call { func: Box::new(f), args })
}
fn label(l: &str) -> Label {
    Label(l.to_string())
}
fn effect(l: &str, arg: Expr) -> Expr {
    e(ExprKind::MakeEffect { label: label(l), arg: Box::new(arg) })
}
fn perform(l: &str, arg: Expr) -> Expr {
    e(ExprKind::Perform { label: label(l), arg: Box::new(arg) })
}
fn resume(mode: ResumeMode, throw: bool, k: Expr, arg: Expr) -> Expr {
    e(ExprKind::Resume { mode, throw, k: Box::new(k), arg: Box::new(arg) })
}
fn error(tag: &str, payload: Expr) -> Expr {
    prim(Prim::MakeError, vec![string(tag), payload])
}
fn emit(x: Expr) -> Expr {
    e(ExprKind::Emit(Box::new(x)))
}

/// What a piece of code can see.
#[derive(Clone, Default)]
struct Scope {
    /// Int-valued variables.
    ints: Vec<String>,
    /// Functions of int parameters returning ints: (name, arity).
    fns: Vec<(String, usize)>,
    /// Cells holding ints / holding continuations.
    cells: Vec<String>,
    kcells: Vec<String>,
    /// Labels some enclosing handler takes (lexically).
    handled: Vec<&'static str>,
    /// Inside a clause: the continuation variable (for deliberate reuse).
    clause_k: Option<String>,
    /// Under the prelude's scheduler / an await handler / a cache handler.
    sched: bool,
    awaits: bool,
    cache: bool,
    /// Variables holding task, promise and semaphore handles.
    tasks: Vec<String>,
    promises: Vec<String>,
    sems: Vec<String>,
}

struct G<'a, S: Source> {
    s: &'a mut S,
    f: Features,
    budget: i32,
    fresh: u32,
}

impl<S: Source> G<'_, S> {
    fn name(&mut self, stem: &str) -> String {
        self.fresh += 1;
        format!("{stem}{}", self.fresh)
    }

    fn any_label(&mut self) -> &'static str {
        LABELS[self.s.below(LABELS.len() as u32) as usize]
    }

    fn small(&mut self) -> i64 {
        self.s.below(12) as i64 - 2
    }

    /// The program's cells (ints, continuations), bound around everything.
    fn globals(&mut self, sc: &mut Scope) -> Vec<(String, Expr)> {
        let mut binds: Vec<(String, Expr)> = Vec::new();
        if self.f.cells {
            let c = self.name("c");
            binds.push((c.clone(), prim(Prim::NewCell, vec![int(0)])));
            sc.cells.push(c);
        }
        if self.f.stored {
            let kc = self.name("kc");
            // A cell that always holds a continuation: at first a trivial unstarted one.
            binds.push((kc.clone(), prim(Prim::NewCell, vec![new_cont(func(&["x"], var("x")), None)])));
            sc.kcells.push(kc);
        }
        binds
    }

    /// The whole program: cells, an outer handler set, then an int body.
    fn top(&mut self) -> Expr {
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

    /// A program for the standard prelude: the root body under `run-scheduled`
    /// (or just `run-await`), maybe inside an interceptor or observer, a total
    /// user handler and `with-cache`, outermost last.
    fn concurrent_top(&mut self) -> Expr {
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
    fn spawn(&mut self, sc: &Scope) -> Expr {
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
    fn join(&mut self, sc: &Scope) -> Expr {
        let handles: Vec<String> = sc.tasks.iter().chain(&sc.promises).cloned().collect();
        let some = |s: &mut S| {
            let n = 1 + s.below(3) as usize;
            (0..n).map(|_| var(s.pick::<String>(&handles))).collect::<Vec<_>>()
        };
        match self.s.below(10) {
            0..=4 => api("wait", vec![var(self.s.pick::<String>(&handles))]),
            5..=7 => {
                let hs = some(self.s);
                let i = self.s.below(hs.len() as u32) as i64;
                prim(Prim::Nth, vec![api("gather", vec![prim(Prim::List, hs)]), int(i)])
            }
            _ => {
                let hs = some(self.s);
                api("race", vec![prim(Prim::List, hs)])
            }
        }
    }

    fn cache_key(&mut self) -> Expr {
        match self.s.below(4) {
            0 => string("k1"),
            1 => string("k2"),
            n => int(n as i64),
        }
    }

    /// A deep non-tail recursion, to hit the depth limit.
    fn deep_recursion(&mut self) -> Expr {
        let f = self.name("deep");
        let n = self.name("n");
        let body = if_(
            prim(Prim::Le, vec![var(&n), int(0)]),
            int(0),
            prim(Prim::Add, vec![int(1), call(var(&f), vec![prim(Prim::Sub, vec![var(&n), int(1)])])]),
        );
        e(ExprKind::Letrec {
            funs: vec![FunDef { name: f.clone(), lambda: Lambda { params: vec![n], body: Box::new(body) } }],
            body: Box::new(call(var(&f), vec![int(100_000)])),
        })
    }

    /// A first run that returns a continuation (or a cell) to the next run.
    fn parking_program(&mut self) -> Expr {
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

    /// The second run: use `prev`, another run's value.
    fn stale_user(&mut self) -> Expr {
        let uses = [
            resume(ResumeMode::Resume, false, var("prev"), int(1)),
            prim(Prim::IsLive, vec![var("prev")]),
            prim(Prim::Get, vec![var("prev")]),
        ];
        let u = self.s.pick(&uses).clone();
        e(ExprKind::Try(Box::new(TryExpr {
            body: u,
            catch: Some(("err".into(), prim(Prim::ErrorTag, vec![var("err")]))),
            finally: None,
        })))
    }

    fn leaf(&mut self, sc: &Scope) -> Expr {
        if !sc.ints.is_empty() && self.s.chance(60) {
            let x = self.s.pick(&sc.ints).clone();
            return var(&x);
        }
        int(self.small())
    }

    /// An int-valued expression.
    fn int(&mut self, sc: &Scope) -> Expr {
        self.budget -= 1;
        if self.budget <= 0 {
            return self.leaf(sc);
        }
        kont_spec::deep::grow(|| self.int_node(sc))
    }

    fn int_node(&mut self, sc: &Scope) -> Expr {
        let f = self.f;
        let in_clause = sc.clause_k.is_some();
        // (weight, enabled) per production.
        let joinable = !sc.tasks.is_empty() || !sc.promises.is_empty();
        let table: [(u32, bool); 24] = [
            (6, true),                                  // 0 leaf
            (8, true),                                  // 1 arithmetic
            (5, true),                                  // 2 if
            (6, true),                                  // 3 let
            (5, true),                                  // 4 do with statements
            (14, f.handlers && !sc.handled.is_empty()), // 5 perform
            (14, f.handlers),                           // 6 with-handler
            (4, f.intercepts),                          // 7 with-intercept
            (3, f.observers),                           // 8 with-observe
            (5, f.try_catch || f.finally),              // 9 try
            (4, f.functions),                           // 10 fn / call
            (3, f.loops),                               // 11 letrec loop
            (4, f.cells && !sc.cells.is_empty()),       // 12 cell
            (3, f.stored && !sc.kcells.is_empty()),     // 13 stored continuation
            (3, f.new_cont),                            // 14 new-cont
            (2, f.violations),                          // 15 violation
            (2, f.violations && in_clause),             // 16 reuse the clause's k
            (14, sc.sched),                             // 17 spawn a task
            (9, sc.sched && joinable),                  // 18 wait / gather / race
            (3, sc.sched),                              // 19 a promise
            (2, sc.sched),                              // 20 a semaphore
            (4, !sc.sems.is_empty()),                   // 21 a critical region
            (5, sc.awaits),                             // 22 await
            (5, sc.cache),                              // 23 cache
        ];
        let total: u32 = table.iter().filter(|(_, on)| *on).map(|(w, _)| w).sum();
        let mut r = self.s.below(total);
        let mut choice = 0;
        for (i, (w, on)) in table.iter().enumerate() {
            if !on {
                continue;
            }
            if r < *w {
                choice = i;
                break;
            }
            r -= w;
        }
        match choice {
            0 => self.leaf(sc),
            1 => {
                let op = *self.s.pick(&[Prim::Add, Prim::Add, Prim::Sub, Prim::Mul, Prim::Div, Prim::Mod]);
                let a = self.int(sc);
                let b = if matches!(op, Prim::Div | Prim::Mod) && !f.violations {
                    int(1 + self.s.below(4) as i64)
                } else {
                    self.int(sc)
                };
                prim(op, vec![a, b])
            }
            2 => {
                let op = *self.s.pick(&[Prim::Lt, Prim::Le, Prim::Eq, Prim::Gt, Prim::Ne]);
                let c = prim(op, vec![self.int(sc), self.int(sc)]);
                let t = self.int(sc);
                let e2 = self.int(sc);
                if_(c, t, e2)
            }
            3 => {
                let x = self.name("x");
                let v = self.int(sc);
                let mut inner = sc.clone();
                inner.ints.push(x.clone());
                let body = self.int(&inner);
                let_(&x, v, body)
            }
            4 => {
                let n = 1 + self.s.below(2);
                let mut es: Vec<Expr> = (0..n).map(|_| self.stmt(sc)).collect();
                es.push(self.int(sc));
                seq(es)
            }
            5 => {
                let l = *self.s.pick(&sc.handled);
                let arg = self.int(sc);
                perform(l, arg)
            }
            6 => {
                // One or two distinct labels (consecutive from a random start: no
                // retry loop, which a byte source with no bytes left could not end).
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
            7 | 8 => {
                let body = self.int(sc);
                self.intercept(sc, body, choice == 8)
            }
            9 => self.try_(sc),
            10 => self.function_call(sc),
            11 => self.counting_loop(sc),
            12 => {
                let c = self.s.pick(&sc.cells).clone();
                if self.s.chance(50) {
                    prim(Prim::Get, vec![var(&c)])
                } else {
                    let v = self.int(sc);
                    seq(vec![prim(Prim::Set, vec![var(&c), v]), prim(Prim::Get, vec![var(&c)])])
                }
            }
            13 => {
                let kc = self.s.pick(&sc.kcells).clone();
                self.resume_stored(sc, &kc)
            }
            14 => self.new_cont_use(sc),
            15 => self.violation(sc),
            17 => self.spawn(sc),
            18 => self.join(sc),
            19 => {
                let p = self.name("p");
                let mut inner = sc.clone();
                inner.promises.push(p.clone());
                // Usually someone will settle it: a task that completes it, maybe later.
                let body = if self.s.chance(60) {
                    let v = self.int(sc);
                    let wait = if sc.awaits && self.s.chance(50) {
                        vec![api("await", vec![int(self.s.below(4) as i64), unit()])]
                    } else {
                        Vec::new()
                    };
                    let settle = api("complete", vec![var(&p), v]);
                    let t = self.name("t");
                    let task =
                        api("spawn", vec![func(&["_"], seq(wait.into_iter().chain([settle, int(0)]).collect()))]);
                    inner.tasks.push(t.clone());
                    let rest = self.int(&inner);
                    let_(&t, task, rest)
                } else {
                    self.int(&inner)
                };
                let_(&p, api("new-promise", vec![]), body)
            }
            20 => {
                let s = self.name("sem");
                let mut inner = sc.clone();
                inner.sems.push(s.clone());
                let n = if self.f.violations && self.s.chance(5) { 0 } else { 1 + self.s.below(3) as i64 };
                let body = self.int(&inner);
                let_(&s, api("new-semaphore", vec![int(n)]), body)
            }
            21 => {
                let s = self.s.pick(&sc.sems).clone();
                let body = self.int(sc);
                let region = e(ExprKind::Try(Box::new(TryExpr {
                    body,
                    catch: None,
                    finally: Some(api("release", vec![var(&s)])),
                })));
                seq(vec![api("acquire", vec![var(&s)]), region])
            }
            22 => {
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
            23 => {
                let key = self.cache_key();
                let v = self.int(sc);
                match self.s.below(3) {
                    0 => seq(vec![api("cache-put", vec![key.clone(), v]), api("cache-get", vec![key])]),
                    1 => if_(api("cache-exists", vec![key.clone()]), api("cache-get", vec![key]), v),
                    // Maybe a miss: an error at the get.
                    _ => api("cache-get", vec![key]),
                }
            }
            _ => {
                // Use the clause's continuation again: one-shot violations.
                let k = sc.clause_k.clone().unwrap();
                let v = self.int(sc);
                resume(ResumeMode::Resume, false, var(&k), v)
            }
        }
    }

    /// A statement: evaluated for its effect.
    fn stmt(&mut self, sc: &Scope) -> Expr {
        let mut opts: Vec<u32> = vec![0];
        if self.f.emit {
            opts.extend([1, 1]);
        }
        if self.f.cells && !sc.cells.is_empty() {
            opts.push(2);
        }
        if self.f.handlers && !sc.handled.is_empty() {
            opts.push(3);
        }
        if self.f.stored && !sc.kcells.is_empty() {
            opts.push(4);
        }
        if sc.sched {
            opts.push(5);
        }
        if sc.sched && !sc.tasks.is_empty() {
            opts.push(6);
        }
        if !sc.promises.is_empty() {
            opts.push(7);
        }
        if sc.cache {
            opts.push(8);
        }
        if self.f.violations && !sc.sems.is_empty() {
            opts.push(9);
        }
        match *self.s.pick(&opts) {
            1 => {
                let v = self.int(sc);
                if self.s.chance(20) {
                    e(ExprKind::Mark { tag: "m".to_string(), arg: Box::new(v) })
                } else {
                    emit(v)
                }
            }
            2 => {
                let c = self.s.pick(&sc.cells).clone();
                let v = self.int(sc);
                prim(Prim::Set, vec![var(&c), v])
            }
            3 => {
                let l = *self.s.pick(&sc.handled);
                let v = self.int(sc);
                perform(l, v)
            }
            4 => {
                // Scheduler-like transport: resume a parked continuation from here.
                let kc = self.s.pick(&sc.kcells).clone();
                self.resume_stored(sc, &kc)
            }
            5 => api("yield", vec![]),
            6 => {
                let t = self.s.pick(&sc.tasks).clone();
                api("cancel", vec![var(&t)])
            }
            7 => {
                // Settling twice is an error, and must agree too.
                let p = self.s.pick(&sc.promises).clone();
                let v = self.int(sc);
                if self.s.chance(25) {
                    api("fail", vec![var(&p), error("pf", v)])
                } else {
                    api("complete", vec![var(&p), v])
                }
            }
            8 => {
                let key = self.cache_key();
                api("cache-delete", vec![key])
            }
            9 => {
                // Over-release, unless a holder is inside.
                let s = self.s.pick(&sc.sems).clone();
                api("release", vec![var(&s)])
            }
            _ => self.int(sc),
        }
    }

    /// `(with-handler …)` taking `labels`, around `body`. The outermost
    /// handler (`total`) takes everything with plain resumes.
    fn handler(&mut self, sc: &Scope, body: Expr, labels: &[&'static str], total: bool) -> Expr {
        let mut clauses = Vec::new();
        let else_clause = !total && self.s.chance(15);
        for (i, l) in labels.iter().enumerate() {
            if else_clause && i == labels.len() - 1 {
                break;
            }
            let body = if total { self.simple_clause() } else { self.clause_body(sc, l, false) };
            clauses.push(Clause { label: Some(label(l)), param: "x".into(), k: "k".into(), body });
        }
        if else_clause {
            let body = self.clause_body(sc, "A", true);
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

    fn simple_clause(&mut self) -> Expr {
        let v = prim(Prim::Add, vec![var("x"), int(self.small())]);
        if self.f.non_tail && self.s.chance(50) {
            resume(ResumeMode::Resume, false, var("k"), v)
        } else {
            resume(ResumeMode::Transfer, false, var("k"), v)
        }
    }

    /// A clause body for `l`: it does something with `k`, once.
    fn clause_body(&mut self, outer: &Scope, l: &str, is_else: bool) -> Expr {
        let mut sc = outer.clone();
        // The clause runs outside its handler: only outer handlers are in scope.
        sc.ints.push(if is_else { "xv".into() } else { "x".into() });
        sc.clause_k = Some("k".into());
        let f = self.f;
        let x = if is_else { prim(Prim::EffectPayload, vec![var("x")]) } else { var("x") };
        let mut opts: Vec<u32> = Vec::new();
        if f.non_tail {
            opts.extend([0, 0, 1]);
        }
        if f.transfer {
            opts.extend([2, 2, 3]);
        }
        if f.throw {
            opts.extend([4, 5]);
        }
        if f.pass {
            opts.extend([6, 7]);
        }
        if f.reperform && !outer.handled.is_empty() {
            opts.push(8);
        }
        if f.abandon {
            opts.push(9);
        }
        if f.stored && !outer.kcells.is_empty() {
            opts.push(10);
        }
        if f.violations {
            opts.push(11);
        }
        if opts.is_empty() {
            opts.push(2);
        }
        let v = self.int(&sc);
        let core = match *self.s.pick(&opts) {
            // Non-tail: the clause gets the body's final value back.
            0 => {
                prim(Prim::Add, vec![v, resume(ResumeMode::Resume, false, var("k"), prim(Prim::Add, vec![x, int(1)]))])
            }
            1 => {
                let r = self.name("r");
                let mut inner = sc.clone();
                inner.ints.push(r.clone());
                let after = self.int(&inner);
                let_(&r, resume(ResumeMode::Resume, false, var("k"), v), prim(Prim::Add, vec![var(&r), after]))
            }
            // Tail; sometimes nested, so the escape leaves a frame (P-Esc); sometimes from a helper.
            2 => resume(ResumeMode::Transfer, false, var("k"), prim(Prim::Add, vec![x, v])),
            3 => {
                if self.s.chance(50) {
                    prim(Prim::Add, vec![int(1), resume(ResumeMode::Transfer, false, var("k"), v)])
                } else {
                    call(func(&["kk"], resume(ResumeMode::Transfer, false, var("kk"), v)), vec![var("k")])
                }
            }
            4 => resume(ResumeMode::Resume, true, var("k"), error("boom", v)),
            5 => resume(ResumeMode::Transfer, true, var("k"), error("boom", v)),
            6 => e(ExprKind::Pass { k: Box::new(var("k")), effect: None }),
            7 => {
                let l2 = *self.s.pick(&LABELS);
                e(ExprKind::Pass { k: Box::new(var("k")), effect: Some(Box::new(effect(l2, v))) })
            }
            // Re-perform: a new dispatch from here; its answer comes back to the clause.
            8 => {
                let l2 = *self.s.pick(&outer.handled);
                let mode = if f.transfer { ResumeMode::Transfer } else { ResumeMode::Resume };
                resume(mode, false, var("k"), perform(l2, prim(Prim::Add, vec![x, v])))
            }
            // Return without resuming: k is abandoned.
            9 => v,
            // Park k for scheduler-like code elsewhere.
            10 => {
                let kc = self.s.pick(&outer.kcells).clone();
                seq(vec![prim(Prim::Set, vec![var(&kc), var("k")]), v])
            }
            _ => e(ExprKind::Raise(Box::new(error("clause", v)))),
        };
        let _ = l;
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

    /// An interceptor (replacing the effect) or observer around `body`.
    fn intercept(&mut self, sc: &Scope, body: Expr, observe: bool) -> Expr {
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
            let choice = self.s.below(if self.f.violations { 5 } else { 4 });
            let result = match choice {
                0 => var("e"),
                1 => {
                    let l = *self.s.pick(&LABELS);
                    effect(l, prim(Prim::Add, vec![prim(Prim::EffectPayload, vec![var("e")]), int(1)]))
                }
                2 => {
                    let st = self.stmt(&fsc);
                    seq(vec![st, var("e")])
                }
                3 => {
                    // The interceptor performs an effect itself (outside its boundary).
                    if fsc.handled.is_empty() {
                        var("e")
                    } else {
                        let l = *self.s.pick(&fsc.handled);
                        let l2 = *self.s.pick(&LABELS);
                        effect(l2, perform(l, prim(Prim::EffectPayload, vec![var("e")])))
                    }
                }
                // Violations: a non-effect result, or an escape.
                _ => {
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

    fn try_(&mut self, sc: &Scope) -> Expr {
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

    fn function_call(&mut self, sc: &Scope) -> Expr {
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
    fn counting_loop(&mut self, sc: &Scope) -> Expr {
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
            funs: vec![FunDef { name: f.clone(), lambda: Lambda { params: vec![n, acc], body: Box::new(body) } }],
            body: Box::new(call(var(&f), vec![int(count), int(0)])),
        })
    }

    /// Resume whatever continuation cell `kc` holds, if it is still live.
    fn resume_stored(&mut self, sc: &Scope, kc: &str) -> Expr {
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
    fn new_cont_use(&mut self, sc: &Scope) -> Expr {
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
        } else {
            resume(ResumeMode::Resume, false, new_cont(f, None), arg)
        }
    }

    /// A deliberate fault of the program, so error paths are compared too.
    fn violation(&mut self, sc: &Scope) -> Expr {
        let v = self.int(sc);
        match self.s.below(12) {
            0 => perform("D", v),                                                            // unhandled
            1 => resume(ResumeMode::Resume, false, int(5), v),                               // not a continuation
            2 => prim(Prim::Add, vec![string("a"), v]),                                      // type error
            3 => call(int(7), vec![v]),                                                      // not a function
            4 => call(func(&["a", "b"], int(1)), vec![v]),                                   // arity
            5 => if_(v, int(1), int(2)),                                                     // if on an int
            6 => prim(Prim::Mul, vec![int(i64::MAX / 2), prim(Prim::Add, vec![v, int(3)])]), // overflow
            7 => prim(Prim::Head, vec![prim(Prim::List, vec![])]),                           // index
            8 => e(ExprKind::Raise(Box::new(v))),                                            // raise a non-error
            9 | 10 => {
                // Outside a clause, usually: transfer or pass with no activation to leave.
                let k = new_cont(func(&["z"], var("z")), None);
                if self.s.chance(50) {
                    resume(ResumeMode::Transfer, false, k, v)
                } else {
                    e(ExprKind::Pass { k: Box::new(k), effect: None })
                }
            }
            _ => e(ExprKind::PerformValue(Box::new(v))), // perform a non-effect
        }
    }
}

/// A call of a standard prelude function.
fn api(name: &str, args: Vec<Expr>) -> Expr {
    call(var(name), args)
}

fn new_cont(f: Expr, envelope: Option<Expr>) -> Expr {
    e(ExprKind::NewCont { func: Box::new(f), envelope: envelope.map(Box::new) })
}
