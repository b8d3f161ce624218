//! `Continuation`: a first-class suspended computation.
//!
//! It owns its execution state and its structure at once: the detached chain
//! of fibers from the perform site up to and including the boundary that
//! caught it. The fibers hold the frames, pending values and try state
//! (execution snapshot); the boundaries on them, with their scope ids, are the
//! handler and interceptor installs inside it (structural snapshot).
//! Reactivation relinks the chain's last fiber under the resumer and makes the
//! first one current: O(1), nothing copied, nothing looked up elsewhere.

use std::cell::Cell;
use std::rc::Rc;

use kont_spec::ContId;

/// The two ends of a detached fiber chain (OCaml 5 keeps the same pair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chain {
    /// The fiber where the computation resumes (the perform site, or the start of an unstarted one).
    pub head: u32,
    /// The outermost fiber: the catching boundary.
    pub last: u32,
}

/// Chains whose continuation became unreachable without being used; the
/// machine frees their fibers. Abandonment runs nothing (SPEC.md §10.3), so
/// when this happens is unobservable. A `Cell` rather than a `RefCell`: a
/// drop can always queue its chain, whatever else is going on.
#[derive(Default)]
pub struct Graveyard(Cell<Vec<Chain>>, Cell<bool>);

impl Graveyard {
    /// The run is over: its continuations can no longer be used.
    pub fn end_run(&self) {
        self.1.set(true);
    }

    pub fn run_ended(&self) -> bool {
        self.1.get()
    }

    pub fn push(&self, c: Chain) {
        let mut v = self.0.take();
        v.push(c);
        self.0.set(v);
    }

    /// Everything queued so far.
    pub fn take(&self) -> Vec<Chain> {
        self.0.take()
    }

    pub fn is_empty(&self) -> bool {
        let v = self.0.take();
        let empty = v.is_empty();
        self.0.set(v);
        empty
    }
}

pub struct Continuation {
    /// Canonical id: creation order in the run.
    pub id: ContId,
    /// The run that owns the fibers; any other run rejects it (K-Stale).
    pub run: u32,
    chain: Cell<Option<Chain>>,
    graveyard: Rc<Graveyard>,
}

impl Continuation {
    pub fn new(id: ContId, run: u32, chain: Chain, graveyard: Rc<Graveyard>) -> Continuation {
        Continuation { id, run, chain: Cell::new(Some(chain)), graveyard }
    }

    /// A continuation of no run here (a host handle made on another thread):
    /// every run rejects it as stale (K-Stale), and it owns nothing.
    pub fn foreign(id: ContId) -> Continuation {
        let graveyard = Graveyard::default();
        graveyard.end_run();
        Continuation { id, run: 0, chain: Cell::new(None), graveyard: Rc::new(graveyard) }
    }

    /// One-shot: the first take gets the chain, later ones nothing.
    #[inline]
    pub fn take(&self) -> Option<Chain> {
        self.chain.take()
    }

    /// The chain, without consuming it (K-Envelope reads the structure).
    pub fn peek(&self) -> Option<Chain> {
        self.chain.get()
    }

    pub fn is_live(&self) -> bool {
        self.chain.get().is_some()
    }

    /// Whether its run has ended (it is then stale everywhere).
    pub fn run_ended(&self) -> bool {
        self.graveyard.run_ended()
    }
}

impl Drop for Continuation {
    fn drop(&mut self) {
        if let Some(c) = self.chain.take() {
            self.graveyard.push(c);
        }
    }
}
