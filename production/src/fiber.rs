//! Fibers: segments of the machine's stack, each with its own frames and
//! values, linked to their parent by index, with at most one boundary at
//! their base (a handler prompt carrying its live scope id, an interceptor or
//! an observer). A `with-*` body runs in a fresh fiber whose base is the
//! boundary; the clause of a handler runs on the parent of its fiber.

use std::rc::Rc;

use kont_spec::{NodeId, ScopeId};

use crate::code::{LabelId, ProtoId};
use crate::continuation::{Chain, Graveyard};
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
        /// `HandlerDef::takes` of `def`, here so that a walk skips a handler of
        /// other labels without reading its definition.
        takes: u32,
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

/// A segment of the stack (see `Fibers`).
struct Fiber {
    frames: Vec<Frame>,
    stack: Vec<Value>,
    parent: u32,
    boundary: Boundary,
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
    /// A `finally` running; then `completion` goes on (boxed: finally code
    /// is rare, and inline it would make every frame 8 bytes larger).
    Finally { def: u32, completion: Box<Completion> },
    /// An interceptor or observer function running for a dispatch; `node`
    /// is where its errors are raised (I-Raise).
    Intercept { dispatch: Box<Dispatch>, scope: ScopeId, observe: bool, node: NodeId },
    /// An unstarted continuation's entry: call `func` with the first resume's value.
    Start { func: Value, node: NodeId },
    /// Host code (see `host.rs`).
    Host(Box<dyn HostFrame>),
}

/// The fiber arena. The running fiber's frames and values live in the
/// machine's registers (`Machine::frames`, `Machine::stack`) for speed, so
/// its slot here is stale until `commit` puts them back. Only `commit` and
/// `enter` move them, and (in debug builds, which every test runs) reads of a
/// fiber's frames check that it is not that stale slot. Fibers are allocated and
/// freed here, and abandoned continuations queue their chains in the
/// graveyard for the machine to free.
pub struct Fibers {
    slots: Vec<Fiber>,
    free: Vec<u32>,
    live: u32,
    /// The running fiber.
    cur: u32,
    /// Whether the running fiber's frames are back in its slot (checked in
    /// debug builds; release builds trust the checked ones).
    #[cfg(debug_assertions)]
    committed: bool,
    graveyard: Rc<Graveyard>,
}

impl Default for Fibers {
    fn default() -> Self {
        Fibers {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            cur: NONE,
            #[cfg(debug_assertions)]
            committed: true,
            graveyard: Rc::new(Graveyard::default()),
        }
    }
}

impl Fibers {
    /// The running fiber.
    #[inline]
    pub fn running(&self) -> u32 {
        self.cur
    }

    /// Fibers allocated and not freed.
    #[inline]
    pub fn live(&self) -> u32 {
        self.live
    }

    /// Arena size: a bound on any chain's length.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn graveyard(&self) -> &Rc<Graveyard> {
        &self.graveyard
    }

    #[inline]
    pub fn parent(&self, id: u32) -> u32 {
        self.slots[id as usize].parent
    }

    #[inline]
    pub fn set_parent(&mut self, id: u32, parent: u32) {
        self.slots[id as usize].parent = parent;
    }

    #[inline]
    pub fn boundary(&self, id: u32) -> &Boundary {
        &self.slots[id as usize].boundary
    }

    /// Fiber `id`'s boundary and parent (one lookup, for walks).
    #[inline]
    pub fn link(&self, id: u32) -> (&Boundary, u32) {
        let f = &self.slots[id as usize];
        (&f.boundary, f.parent)
    }

    /// For fault injection only: boundaries never change otherwise.
    pub fn boundary_mut(&mut self, id: u32) -> &mut Boundary {
        &mut self.slots[id as usize].boundary
    }

    /// Whether fiber `id`'s slot holds its frames (not the running fiber's stale slot).
    #[cfg(debug_assertions)]
    fn holds_frames(&self, id: u32) -> bool {
        id != self.cur || self.committed
    }

    /// The frames of fiber `id`, which must not be the running fiber's stale slot.
    pub fn frames(&self, id: u32) -> &[Frame] {
        #[cfg(debug_assertions)]
        assert!(self.holds_frames(id), "the running fiber's frames are in the registers");
        &self.slots[id as usize].frames
    }

    /// Push a frame on suspended fiber `id` (an unstarted continuation's entry).
    pub fn push_frame(&mut self, id: u32, frame: Frame) {
        #[cfg(debug_assertions)]
        assert!(self.holds_frames(id), "the running fiber's frames are in the registers");
        self.slots[id as usize].frames.push(frame);
    }

    /// A fresh fiber under `parent` with `boundary` at its base.
    pub fn alloc(&mut self, parent: u32, boundary: Boundary) -> u32 {
        self.live += 1;
        match self.free.pop() {
            Some(id) => {
                let f = &mut self.slots[id as usize];
                f.parent = parent;
                f.boundary = boundary;
                id
            }
            None => {
                // Most fibers suspend with one frame and few values; start small.
                let (frames, stack) = (Vec::with_capacity(1), Vec::with_capacity(1));
                self.slots.push(Fiber { frames, stack, parent, boundary });
                self.slots.len() as u32 - 1
            }
        }
    }

    /// Release fiber `id` (not the running one); its boundary is returned.
    pub fn free(&mut self, id: u32) -> Boundary {
        #[cfg(debug_assertions)]
        assert!(self.holds_frames(id), "the running fiber is not freed");
        let f = &mut self.slots[id as usize];
        // Cleared in place: a reused fiber keeps its capacity. Dropping may
        // release continuations, which only queue their chains.
        f.frames.clear();
        f.stack.clear();
        f.parent = NONE;
        let old = std::mem::replace(&mut f.boundary, Boundary::None);
        self.free.push(id);
        self.live -= 1;
        old
    }

    /// Put the running fiber's frames and values back in its slot.
    #[inline]
    pub fn commit(&mut self, frames: &mut Vec<Frame>, stack: &mut Vec<Value>) {
        let f = &mut self.slots[self.cur as usize];
        std::mem::swap(&mut f.frames, frames);
        std::mem::swap(&mut f.stack, stack);
        #[cfg(debug_assertions)]
        {
            assert!(!self.committed, "committed twice");
            self.committed = true;
        }
    }

    /// Make `id` the running fiber: its frames and values move to the registers.
    #[inline]
    pub fn enter(&mut self, id: u32, frames: &mut Vec<Frame>, stack: &mut Vec<Value>) {
        #[cfg(debug_assertions)]
        {
            assert!(self.committed, "the running fiber must be committed first");
            self.committed = false;
        }
        self.cur = id;
        let f = &mut self.slots[id as usize];
        std::mem::swap(&mut f.frames, frames);
        std::mem::swap(&mut f.stack, stack);
    }
}

// Every fiber carries one of these.
const _: [(); 32] = [(); std::mem::size_of::<Boundary>()];

// Every suspended activation is one of these: four words, an activation's
// value sharing its tag byte with the frame kind.
const _: [(); 32] = [(); std::mem::size_of::<Frame>()];
