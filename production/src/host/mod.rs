//! The host seam: where a foreign runtime (Python generators) plugs in its
//! own code, values, effects and boundaries without a second copy of
//! dispatch, capture or reactivation.
//!
//! A host frame is a resumable computation the machine drives like a
//! generator: it receives a value or an error and answers with what it wants
//! next ([`HostStep`]). It lives on a fiber like any frame, so effects it
//! performs capture it into continuations and it moves with them. A host
//! boundary ([`HostBoundary`]) is a handler, interceptor or observer whose
//! code is host code; it sits at a fiber's base with its own scope id, like
//! a kont boundary, and travels inside continuations the same way.
//!
//! The traits are here; `exec.rs` is the machine's side (SPEC.md §14).

mod exec;

use std::any::Any;
use std::rc::Rc;

use kont_spec::{BoundaryKind, ValueView};

use crate::code::LabelId;
use crate::value::Value;

pub use exec::{run_host, HostRun, HostStop, PRELUDE_API};

/// An opaque value owned by the host.
pub trait HostValue {
    fn type_name(&self) -> &'static str {
        "host"
    }
    /// How the value appears in outcomes and traces of run `run` (a
    /// continuation inside it from another run shows as an earlier run's).
    fn view(&self, run: u64) -> ValueView;
    /// Whether the value can be called (`call` starts host code).
    fn callable(&self) -> bool {
        false
    }
    /// Calling it starts host code, when it is callable.
    fn call(&self, _args: Vec<Value>) -> Option<Box<dyn HostFrame>> {
        None
    }
    /// Whether performing the value is an effect (dispatched by host boundaries).
    fn is_effect(&self) -> bool {
        false
    }
    /// Whether the value is an error the throw forms accept (a Python exception).
    fn is_error(&self) -> bool {
        false
    }
    /// The kont tag of an error value the host made from a kont error (a
    /// Python `kont.KontError`'s `tag`): the native scheduler reads it as the
    /// prelude's `error-tag` would (a cancellation re-raised by host code).
    fn error_tag(&self) -> Option<String> {
        None
    }
    /// For the host to get its own type back.
    fn as_any(&self) -> &dyn Any;
}

/// What a host frame receives.
pub enum HostInput {
    /// The value of what it asked for last (or `unit` when it starts).
    Value(Value),
    /// An error raised into it, and where it was raised.
    Throw(Value, kont_spec::NodeId),
}

/// What a host frame asks for.
pub enum HostStep {
    /// It finished with a value.
    Return(Value),
    /// It raised an error (a `raise` event, at its site).
    Raise(Value),
    /// An error raised into it passes on through it unchanged (no new
    /// `raise`: the error keeps its site).
    Unwind(Value, kont_spec::NodeId),
    /// Perform this effect value (a kont effect, or a host value whose
    /// `is_effect` holds); the answer comes back as the next input.
    Perform(Value),
    /// Call this kont function with these arguments; the result comes back.
    Call(Value, Vec<Value>),
    /// Run host code as a callee on the same fiber; its result comes back.
    Enter(Box<dyn HostFrame>),
    /// Run host code as the body of a new boundary (B-Install); the body's
    /// result (or error) comes back.
    Install(Rc<dyn HostBoundary>, Box<dyn HostFrame>),
    /// `resume` / `resume-throw`: continue `k`; its result comes back.
    Resume { k: Value, value: Value, throw: bool },
    /// `transfer` / `transfer-throw`: the frame ends (it is closed first) and
    /// its clause activation continues `k` in its place.
    Transfer { k: Value, value: Value, throw: bool },
    /// `pass`: the frame ends (closed first) and the dispatch goes on outward
    /// with `k`, and with `effect` in place of the original when given.
    Pass { k: Value, effect: Option<Value> },
    /// `new-cont`: a fresh unstarted continuation of `func` (a kont function
    /// of one parameter or a callable host value), under copies of the
    /// boundaries of `envelope` when given; the continuation comes back.
    NewCont { func: Value, envelope: Option<Value> },
}

/// Host code, driven by the machine.
pub trait HostFrame {
    fn resume(&mut self, input: HostInput) -> HostStep;
    /// The frame ends without finishing (its clause transferred or passed):
    /// run its cleanup now. An error it raises doing so comes back.
    fn close(&mut self) -> Option<Value> {
        None
    }
    /// Where it is suspended, for traces (`file:line`).
    fn site(&self) -> Option<String> {
        None
    }
}

/// A handler, interceptor or observer whose code is host code.
pub trait HostBoundary {
    fn kind(&self) -> BoundaryKind;
    /// Its name in traces.
    fn name(&self) -> String;
    /// Whether it takes part in dispatching `effect` (its type filter).
    fn takes(&self, effect: &Value) -> bool;
    /// Start its code for `effect`: a handler's clause gets the continuation
    /// `k`; an interceptor's or observer's function gets the effect alone.
    /// An error starting it is raised where the clause would run.
    fn start(&self, effect: Value, k: Option<Value>) -> Result<Box<dyn HostFrame>, Value>;
}

/// Promises settled from outside the run (SPEC.md §14.9): a host's awaits.
pub trait HostExternal {
    /// Every task of the scheduler is parked and no timer is due: wait until
    /// something outside settles, and give the settlements (promise index,
    /// whether it succeeded, the value or error). Nothing pending outside:
    /// an empty list (the scheduler then reports its deadlock).
    fn wait(&mut self) -> Vec<(u32, bool, Value)>;
}

/// Host sites have no node in the program.
pub const HOST_SITE: kont_spec::NodeId = kont_spec::NodeId::MAX;

/// The label of every host effect: the effect value itself is the payload,
/// and host boundaries choose by looking at it.
pub const HOST_LABEL: LabelId = LabelId::MAX;

/// Host boundaries held by fibers (shared by envelope copies, like a kont handler's environment).
pub type SharedBoundary = Rc<dyn HostBoundary>;
