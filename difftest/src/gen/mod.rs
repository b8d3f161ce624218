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
//!
//! Layout: this file holds the features, the case and the generator's state;
//! `core.rs` the expressions, statements, `try`, functions, loops and
//! violations; `handlers.rs` handlers, clauses, interceptors and the uses of
//! continuations; `concurrency.rs` programs for the standard prelude. Each
//! choice between productions is an enum with a weight per variant and a
//! generating `match`, both exhaustive (`productions!`): a production without
//! a weight or an arm does not compile.

/// Declares an enum of productions and `ALL`, every variant in order, for
/// `choose`. The weights and the generating code are `match`es over it with
/// no catch-all arm, so a production added without either does not compile.
macro_rules! productions {
    ($(#[$m:meta])* enum $name:ident { $($(#[$vm:meta])* $v:ident,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum $name {
            $($(#[$vm])* $v,)*
        }

        impl $name {
            const ALL: &'static [$name] = &[$($name::$v,)*];
        }
    };
}

mod concurrency;
mod core;
mod handlers;
mod source;
mod targeted;

pub use source::{Bytes, Rng, Source};

use std::borrow::Cow;

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
    Prelude::std().wrap(program.clone(), &SourceMap::default()).0
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
    case_in(s, features, false)
}

/// A case for checking interaction coverage on a small budget: mostly
/// programs for the prelude, and two-run cases far more often.
pub fn focused_case(s: &mut impl Source) -> Case {
    let mut features = Features::swarm(s);
    features.concurrency = s.chance(70);
    case_in(s, features, true)
}

fn case_in(s: &mut impl Source, features: Features, focus: bool) -> Case {
    let size = 12 + s.below(60) as i32;
    let mut g = G { s, f: features, budget: size, fresh: 0 };
    let stale_percent = if focus { 40 } else { 8 };
    // Now and then: a tight depth limit (R-Depth), a tight memory budget
    // (R-Memory), or a second run (K-Stale).
    let memory = tight_memory(size);
    if g.f.concurrency {
        let limits = Limits { fuel: PRELUDE_FUEL, depth: 20_000, memory };
        // Now and then a second run using the first's continuation from a task.
        if g.s.chance(stale_percent) {
            let first = g.parking_program();
            let mut program = Program::new(g.stale_use(true));
            program.inputs = vec!["prev".into()];
            return Case { program, before: Some(Program::new(first)), limits, features, prelude: true };
        }
        let program = Program::new(g.concurrent_top());
        return Case { program, before: None, limits, features, prelude: true };
    }
    let deep = g.f.violations && g.s.chance(3);
    let stale = g.s.chance(stale_percent);
    let body = if deep { g.deep_recursion() } else { g.top() };
    let (program, before) = if stale {
        let first = g.parking_program();
        let mut p = Program::new(g.stale_use(false));
        p.inputs = vec!["prev".into()];
        (p, Some(Program::new(first)))
    } else {
        (Program::new(body), None)
    };
    let limits = Limits { fuel: FUEL, depth: if deep { 400 } else { 20_000 }, memory };
    Case { program, before, limits, features, prelude: false }
}

/// One case in seven gets a memory budget of 0..300 units (R-Memory), the
/// others the default. Derived from the size already drawn, so the programs a
/// seed generates stay the same.
fn tight_memory(size: i32) -> u64 {
    if size % 7 == 0 {
        (size as u64 * 37) % 300
    } else {
        Limits::DEFAULT.memory
    }
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
}

/// One of `all`, with probability proportional to `weight` (0: disabled);
/// `None` when every weight is 0. A source that always answers 0 (fuzzer
/// bytes that ran out) gets the first enabled production, so each table
/// lists its smallest production first.
fn choose<P: Copy>(s: &mut impl Source, all: &[P], weight: impl Fn(P) -> u32) -> Option<P> {
    let total: u32 = all.iter().map(|p| weight(*p)).sum();
    if total == 0 {
        return None;
    }
    let mut r = s.below(total);
    for p in all {
        let w = weight(*p);
        if r < w {
            return Some(*p);
        }
        r -= w;
    }
    unreachable!("r < total")
}

/// A call of a standard prelude function.
fn api(name: &str, args: Vec<Expr>) -> Expr {
    call(var(name), args)
}

fn new_cont(f: Expr, envelope: Option<Expr>) -> Expr {
    e(ExprKind::NewCont { func: Box::new(f), envelope: envelope.map(Box::new) })
}
