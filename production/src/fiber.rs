//! Fibers: segments of the machine's stack, each with its own frames and
//! values, linked to their parent by index, with at most one boundary at
//! their base (a handler prompt carrying its live scope id, an interceptor or
//! an observer). A `with-*` body runs in a fresh fiber whose base is the
//! boundary; the clause of a handler runs on the parent of its fiber.

use std::rc::Rc;

use kont_spec::{NodeId, ScopeId};

use crate::code::{LabelId, ProtoId};
use crate::continuation::Chain;
use crate::host::HostFrame;
use crate::value::{Env, Value};

/// No fiber.
pub const NONE: u32 = u32::MAX;

/// The structure a fiber carries: what its base is.
#[derive(Clone)]
pub enum Boundary {
    None,
    /// A handler prompt: `scope` is the live authority for its identity.
    Handler {
        scope: ScopeId,
        def: u32,
        env: Rc<Env>,
        /// A native handler's state (shared by envelope copies, like the cells its clauses would use).
        native: Option<crate::native::Shared>,
    },
    /// An interceptor or observer with its function.
    Intercept {
        scope: ScopeId,
        def: u32,
        func: Value,
    },
    /// A handler, interceptor or observer whose code is host code (SPEC.md §14.3).
    Host {
        scope: ScopeId,
        host: crate::host::SharedBoundary,
    },
}

impl Boundary {
    pub fn scope(&self) -> Option<ScopeId> {
        match self {
            Boundary::None => None,
            Boundary::Handler { scope, .. } | Boundary::Intercept { scope, .. } | Boundary::Host { scope, .. } => {
                Some(*scope)
            }
        }
    }
}

pub struct Fiber {
    pub frames: Vec<Frame>,
    pub stack: Vec<Value>,
    pub parent: u32,
    pub boundary: Boundary,
}

/// A suspended function activation: where it is and what it sees.
pub struct Saved {
    pub proto: ProtoId,
    pub pc: u32,
    pub base: u32,
    /// Where its values start on the stack (dropped when it returns).
    pub ret: u32,
    pub env: Rc<Env>,
}

/// What finishing a `finally` goes on with.
pub enum Completion {
    Value(Value),
    Error(Value, NodeId),
    Escape(Box<Escape>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryPhase {
    Body,
    Catch,
}

/// Terminal continuation forms on their way to the nearest clause activation.
pub struct Escape {
    pub kind: EscapeKind,
    pub site: NodeId,
}

pub enum EscapeKind {
    Transfer { k: u32, chain: Chain, throw: bool, value: Value },
    Pass { k: u32, chain: Chain, effect: Option<Value> },
}

impl EscapeKind {
    pub fn form(&self) -> &'static str {
        match self {
            EscapeKind::Transfer { throw: false, .. } => "transfer",
            EscapeKind::Transfer { throw: true, .. } => "transfer-throw",
            EscapeKind::Pass { .. } => "pass",
        }
    }
}

/// A dispatch in flight: the effect (label and payload, kept apart so no
/// effect value is allocated unless one is asked for), where it was
/// performed, and the part of its continuation detached so far.
pub struct Dispatch {
    pub d: u32,
    pub label: LabelId,
    pub payload: Value,
    pub site: NodeId,
    pub chain: Option<Chain>,
}

pub enum Frame {
    /// A caller waiting for a value.
    Code(Saved),
    /// A handler clause running for dispatch `d` of boundary `scope`.
    Activation { d: u32, scope: ScopeId, site: NodeId, label: LabelId, payload: Value },
    /// A `try` of the function above it (the current one when on top).
    Try { def: u32, sp: u32, phase: TryPhase },
    /// A `finally` running; then `completion` goes on.
    Finally { def: u32, completion: Completion },
    /// An interceptor or observer function running for a dispatch; `node`
    /// is where its errors are raised (I-Raise).
    Intercept { dispatch: Box<Dispatch>, scope: ScopeId, observe: bool, node: NodeId },
    /// An unstarted continuation's entry: call `func` with the first resume's value.
    Start { func: Value, node: NodeId },
    /// Host code (see `host.rs`).
    Host(Box<dyn HostFrame>),
}
