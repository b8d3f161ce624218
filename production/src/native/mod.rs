//! Native handlers (SPEC.md §13.6): built-in implementations of the standard
//! prelude's `:native` handlers — the scheduler, await and cache.
//!
//! A native handler takes part in dispatch exactly like its kont clauses (same
//! boundary, same labels, same D-Handle and continuation object); only the
//! clause body is replaced. Each built-in mirrors its clauses in
//! `spec/prelude/std.kont` step for step and ends as they do, by transferring
//! an answer to a continuation or returning a value, emitting the same events
//! on the way (marks, envelope installs, `new-cont`, `transfer`, `return`).
//! Their state lives on the boundary, shared by its envelope copies, as the
//! clauses' cells are.
//!
//! A handler is run natively only when it is the standard prelude's own: the
//! program is wrapped with the `std` prelude, unchanged, and the handler is the
//! one the prelude defines (`recognise`). Anything else runs its clauses.

mod awaiting;
mod cache;
mod scheduler;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

use kont_spec::ast::ExprKind;
use kont_spec::{Event, NodeId, Program, Rule, SourceMap, ValueView};

use crate::continuation::Continuation;
use crate::machine::{Flow, Machine};
use crate::value::{Items, Value};

/// Which built-in a handler runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeKind {
    Scheduler,
    Await,
    Cache,
}

impl NativeKind {
    /// How the compiler records this built-in in the code.
    pub fn builtin(self) -> crate::code::Builtin {
        crate::code::Builtin(self as u8)
    }

    pub fn from_builtin(b: crate::code::Builtin) -> NativeKind {
        [NativeKind::Scheduler, NativeKind::Await, NativeKind::Cache][b.0 as usize]
    }

    fn from_name(name: &str) -> Option<NativeKind> {
        match name {
            "scheduler" => Some(NativeKind::Scheduler),
            "await" => Some(NativeKind::Await),
            "cache" => Some(NativeKind::Cache),
            _ => None,
        }
    }
}

/// The state of one installed native handler, shared by its envelope copies.
pub enum State {
    Scheduler(scheduler::Scheduler),
    Await(awaiting::Clock),
    Cache(cache::Store),
}

pub type Shared = Rc<RefCell<State>>;

pub fn new_state(kind: NativeKind) -> Shared {
    Rc::new(RefCell::new(match kind {
        NativeKind::Scheduler => State::Scheduler(scheduler::Scheduler::new()),
        NativeKind::Await => State::Await(awaiting::Clock::default()),
        NativeKind::Cache => State::Cache(cache::Store::default()),
    }))
}

/// How a native clause ends: as `(transfer k v)`, or by returning `v`.
pub enum Reply {
    Transfer(Rc<Continuation>, Value),
    Return(Value),
}

/// Whether `program` is a program wrapped with the standard prelude: its
/// root is the prelude's `letrec`, node for node. Pre-order numbering makes
/// a wrapped prelude's nodes, ids included, identical in every program.
pub fn is_std(program: &Program) -> bool {
    match &program.body.kind {
        ExprKind::Letrec { funs, .. } => kont_spec::prelude::Prelude::std().is_own(funs),
        _ => false,
    }
}

/// The `with-handler` nodes of a program wrapped with the standard prelude
/// that run natively.
pub fn std_handlers() -> HashMap<NodeId, NativeKind> {
    canonical().handlers.clone()
}

/// The standard prelude wrapped around `unit`.
pub fn std_program() -> &'static Program {
    &canonical().program
}

struct Canonical {
    program: Program,
    handlers: HashMap<NodeId, NativeKind>,
}

/// The standard prelude wrapped around `unit`, and its native handlers.
fn canonical() -> &'static Canonical {
    static CANONICAL: OnceLock<Canonical> = OnceLock::new();
    CANONICAL.get_or_init(|| {
        let prelude = kont_spec::prelude::Prelude::std();
        let (bare, map) = kont_spec::syntax::parse_program("unit").expect("unit parses");
        let (program, _): (Program, SourceMap) = prelude.wrap(bare, &map);
        let mut handlers = HashMap::new();
        let mut todo = vec![&program.body];
        while let Some(e) = todo.pop() {
            if let ExprKind::WithHandler(h) = &e.kind {
                if let Some(kind) = h.native.as_deref().and_then(NativeKind::from_name) {
                    handlers.insert(e.id, kind);
                }
            }
            todo.extend(e.children());
        }
        Canonical { program, handlers }
    })
}

impl Machine<'_, '_> {
    /// D-Handle chose native handler `state` for dispatch `d` at `scope`; `k`
    /// is the continuation its clause would get. Run the built-in clause and
    /// end it as the kont clause would.
    pub fn native_clause(
        &mut self,
        state: Shared,
        (d, scope): (u32, u32),
        label: &str,
        payload: Value,
        k: Rc<Continuation>,
        site: NodeId,
    ) -> Flow {
        let reply = {
            let mut st = state.borrow_mut();
            match &mut *st {
                State::Scheduler(s) => s.clause(self, label, payload, k, site)?,
                State::Await(c) => c.clause(label, payload, k),
                State::Cache(c) => c.clause(label, payload, k),
            }
        };
        match reply {
            // [K-Transfer], as the clause's `transfer` escaping to its activation.
            Reply::Transfer(c, value) => {
                let chain = c.take().expect("a native handler only transfers continuations it holds, once");
                self.transfer(c.id, chain, value, None)
            }
            // [C-Return]
            Reply::Return(v) => {
                self.rule(Rule::CReturn);
                self.emit(|m| Event::Return { dispatch: d, scope, value: m.view(&v) });
                self.deliver(v)
            }
        }
    }

    /// `(mark tag v)`, with `v` built only when the trace is on.
    fn native_mark(&mut self, tag: &'static str, v: impl FnOnce() -> ValueView) {
        self.emit(|_| Event::Mark { tag: tag.to_string(), value: v() });
    }

    /// The number of parameters of function `f`, if it is one.
    fn arity_of(&self, f: &Value) -> Option<u32> {
        match f {
            Value::Fn(i, env) => {
                let proto = self.code.groups[env.group as usize].protos[*i as usize];
                Some(self.code.protos[proto as usize].nparams)
            }
            _ => None,
        }
    }
}

// ---------------------------------------------------------------- answers
// The prelude's protocol: every effect is answered with (list true v) or
// (list false e).

fn ok(v: Value) -> Value {
    Value::list(vec![Value::Bool(true), v])
}

fn err(e: Value) -> Value {
    Value::list(vec![Value::Bool(false), e])
}

/// `(refuse k tag x)`: answer the performer with `(error tag x)`.
fn refuse(k: Rc<Continuation>, tag: &str, x: Value) -> Reply {
    Reply::Transfer(k, err(Value::error(tag, x)))
}

// ------------------------------------------------------------- validation
// The prelude's predicates, with the same meaning.

/// `(list-of-len? x n)`: the items.
fn list_of_len(x: &Value, n: usize) -> Option<&[Value]> {
    match x {
        Value::List(items) if items.0.len() == n => Some(&items.0),
        _ => None,
    }
}

fn items(x: &Value) -> Option<&Items> {
    match x {
        Value::List(items) => Some(items),
        _ => None,
    }
}

/// `(int-between? x lo hi)`
fn int_between(x: &Value, lo: i64, hi: i64) -> Option<i64> {
    match x {
        Value::Int(i) if (lo..=hi).contains(i) => Some(*i),
        _ => None,
    }
}

/// `(outcome? o)`: (list ok? v), v an error when not ok.
fn outcome(o: &Value) -> Option<(bool, &Value)> {
    match list_of_len(o, 2)? {
        [Value::Bool(true), v] => Some((true, v)),
        [Value::Bool(false), v] if v.is_error() => Some((false, v)),
        _ => None,
    }
}

/// `(valid-await? op)`: (list ticks ok? v) with 0 <= ticks <= 10^12; the ticks
/// and the answer `(tail op)`.
fn await_op(op: &Value) -> Option<(i64, Value)> {
    let xs = list_of_len(op, 3)?;
    let ticks = int_between(&xs[0], 0, 1_000_000_000_000)?;
    match (&xs[1], &xs[2]) {
        (Value::Bool(true), _) => Some((ticks, Value::list(xs[1..].to_vec()))),
        (Value::Bool(false), e) if e.is_error() => Some((ticks, Value::list(xs[1..].to_vec()))),
        _ => None,
    }
}

/// `(clock-fits? clock op)`: virtual clocks stop at 4 * 10^18.
fn clock_fits(clock: i64, ticks: i64) -> bool {
    ticks <= 4_000_000_000_000_000_000 - clock
}

/// `(data? v)`: no function anywhere in v.
fn data(v: &Value) -> bool {
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        match v {
            Value::Fn(..) => return false,
            Value::List(items) => todo.extend(items.0.iter()),
            Value::Error(e) => todo.push(&e.payload),
            Value::Effect(e) => todo.push(&e.payload),
            _ => {}
        }
    }
    true
}

/// Stops a native clause can hit (only resource limits, while allocating).
type Clause = Flow<Reply>;
