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

use kont_spec::ast::ResumeMode;
use kont_spec::errors;
use kont_spec::{BoundaryKind, ContId, ErrorTag, Event, NodeId, Rule};

use crate::faults::{self, Fault};
use crate::fiber::{Boundary, Escape, EscapeKind, Frame, NONE};
use crate::machine::{CallError, Flow, Machine};
use crate::value::Value;

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
    pub run: u64,
    chain: Cell<Option<Chain>>,
    graveyard: Rc<Graveyard>,
}

impl Continuation {
    pub fn new(id: ContId, run: u64, chain: Chain, graveyard: Rc<Graveyard>) -> Continuation {
        Continuation { id, run, chain: Cell::new(Some(chain)), graveyard }
    }

    /// A continuation of no run here (a host handle made on another thread):
    /// every run rejects it as stale (K-Stale), and it owns nothing.
    pub fn foreign(id: ContId) -> Continuation {
        let graveyard = Graveyard::default();
        graveyard.end_run();
        Continuation { id, run: 0, chain: Cell::new(None), graveyard: Rc::new(graveyard) }
    }

    /// A fresh continuation in a used object (see `Machine::recycle`); `None`
    /// when the object is shared after all.
    pub fn reuse(mut this: Rc<Continuation>, id: ContId, chain: Chain) -> Option<Rc<Continuation>> {
        let c = Rc::get_mut(&mut this)?;
        c.id = id;
        c.chain = Cell::new(Some(chain));
        Some(this)
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

// ----- the continuation operations -----------------------------------------
//
// Every use checks the continuation (K-NotCont, K-Stale, K-OneShot) and
// consumes it; reactivation relinks its chain under the resumer and
// continues its head; `new-cont` builds an unstarted chain, under fresh
// copies of an envelope's boundaries (K-Envelope).

impl Machine<'_, '_> {
    /// Continue the running fiber's top frame with a value or an error.
    #[inline]
    pub fn resume_top(&mut self, value: Option<Value>, throw: Option<(Value, NodeId)>) -> Flow {
        // The common case, a function waiting for a value, inline; the rest out of line.
        if let (Some(_), None, Some(Frame::Code(_))) = (&value, &throw, self.frames.last()) {
            let Some(Frame::Code(s)) = self.frames.pop() else { unreachable!() };
            self.restore(s);
            self.stack.push(value.expect("checked"));
            return Flow::Continue(());
        }
        self.resume_top_slow(value, throw)
    }

    #[inline(never)]
    fn resume_top_slow(&mut self, value: Option<Value>, throw: Option<(Value, NodeId)>) -> Flow {
        match self.frames.pop() {
            Some(Frame::Code(s)) => {
                self.restore(s);
                match throw {
                    Some((err, at)) => self.raise(err, at),
                    None => {
                        self.stack.push(value.expect("a value"));
                        Flow::Continue(())
                    }
                }
            }
            // [K-Start]
            Some(Frame::Start { func, node }) => {
                self.rule(Rule::KStart);
                match throw {
                    Some((err, at)) => self.raise_here(err, at),
                    // A host function starts host code (new-cont checked that it is callable).
                    None if matches!(func, Value::Host(_)) => {
                        let Value::Host(h) = &func else { unreachable!() };
                        match h.call(vec![value.expect("a value")]) {
                            Some(frame) => self.resume_host(frame, crate::host::HostInput::Value(Value::Unit)),
                            None => {
                                self.rule(Rule::ECallNotFn);
                                let err = Value::error(ErrorTag::NotAFunction.name(), func.clone());
                                self.emit(|m| Event::Raise { error: m.view(&err), site: node });
                                self.raise_here(err, node)
                            }
                        }
                    }
                    // `new-cont` checked the function, so only a limit can stop it.
                    None => match self.callee(func, 1, node) {
                        Ok((proto, env)) => {
                            let ret = self.stack.len() as u32;
                            self.stack.push(value.expect("a value"));
                            self.start_function(proto, env, 1, ret);
                            Flow::Continue(())
                        }
                        Err(CallError::Exit(exit)) => Flow::Break(exit),
                        Err(CallError::Raise(err, at)) => {
                            self.emit(|m| Event::Raise { error: m.view(&err), site: at });
                            self.raise_here(err, at)
                        }
                    },
                }
            }
            Some(Frame::Host(h)) => {
                let input = match throw {
                    Some((err, at)) => crate::host::HostInput::Throw(err, at),
                    None => crate::host::HostInput::Value(value.expect("a value")),
                };
                self.resume_host(h, input)
            }
            _ => unreachable!("a suspended fiber's top frame is code, a start or host code"),
        }
    }

    /// Reactivation: relink `chain` under the running fiber and continue its
    /// head with `value` (or raise it there, when `throw_site` is given).
    /// O(1): one parent pointer, one fiber switch.
    #[inline]
    pub fn reactivate(&mut self, chain: Chain, value: Value, throw_site: Option<NodeId>) -> Flow {
        self.fibers.set_parent(chain.last, self.cur());
        if faults::active(Fault::ResumeLosesInterceptor) || faults::active(Fault::ShallowHandler) {
            self.inject_reactivation_fault(chain);
        }
        self.switch(chain.head);
        match throw_site {
            Some(at) => self.resume_top(None, Some((value, at))),
            None => self.resume_top(Some(value), None),
        }
    }

    /// The checks of every continuation use, in order: [K-NotCont], [K-Stale],
    /// [K-OneShot]; a failed check gives its rule and the error to raise.
    pub fn cont_check(&self, k: &Value) -> Result<Rc<Continuation>, (Rule, Value)> {
        self.cont_ref(k).cloned()
    }

    /// `cont_check` without taking a reference count.
    #[inline]
    fn cont_ref<'v>(&self, k: &'v Value) -> Result<&'v Rc<Continuation>, (Rule, Value)> {
        match k {
            Value::Cont(c) if c.run != self.run => Err((Rule::KStale, Value::error(ErrorTag::Stale.name(), k.clone()))),
            Value::Cont(c) if !c.is_live() => Err((Rule::KOneShot, Value::error(ErrorTag::OneShot.name(), k.clone()))),
            Value::Cont(c) => Ok(c),
            other => Err((Rule::KNotCont, Value::error(ErrorTag::NotAContinuation.name(), other.clone()))),
        }
    }

    /// `cont_ref` for code: a failed check raises in the running function.
    #[inline]
    fn check_cont_ref<'v>(&mut self, k: &'v Value, node: NodeId) -> Result<&'v Rc<Continuation>, Flow> {
        self.cont_ref(k).map_err(|(rule, err)| {
            self.rule(rule);
            self.fail_value(err, node)
        })
    }

    /// `cont_check` for code: a failed check raises in the running function.
    pub fn check_cont(&mut self, k: &Value, node: NodeId) -> Result<Rc<Continuation>, Flow> {
        self.cont_check(k).map_err(|(rule, err)| {
            self.rule(rule);
            self.fail_value(err, node)
        })
    }

    /// `resume`, `resume-throw`, `transfer`, `transfer-throw`.
    pub fn resume_form(&mut self, mode: ResumeMode, throw: bool, k: Value, v: Value, node: NodeId) -> Flow {
        // A fault may accept a stale continuation here (`faults.rs`).
        let stale_ok =
            mode == ResumeMode::Transfer && faults::stale_accepted(Fault::StaleTransferAccepted, &k).is_some();
        let c = match (stale_ok, &k) {
            (true, Value::Cont(c)) => Ok(c),
            _ => self.check_cont_ref(&k, node),
        };
        let c = match c {
            Ok(c) => c,
            Err(flow) => return flow,
        };
        if throw && !v.is_error() {
            self.rule(Rule::XNotError);
            let form = if mode == ResumeMode::Resume { "resume-throw" } else { "transfer-throw" };
            return self.type_error(form, "an error value", &v, node);
        }
        let chain = if faults::active(Fault::OneShotNotEnforced) { c.peek() } else { c.take() }.expect("checked live");
        let mode = if faults::active(Fault::TransferKeepsClause) { ResumeMode::Resume } else { mode };
        let flow = match mode {
            // [K-Resume] [K-ResumeThrow]
            ResumeMode::Resume => {
                self.rule(if throw { Rule::KResumeThrow } else { Rule::KResume });
                self.emit(|m| Event::Resume { k: c.id, mode, throw, value: m.view(&v) });
                let me = self.save();
                self.frames.push(me);
                self.reactivate(chain, v, throw.then_some(node))
            }
            ResumeMode::Transfer => {
                self.escape(Escape { kind: EscapeKind::Transfer { k: c.id, chain, throw, value: v }, site: node })
            }
        };
        self.recycle(k);
        flow
    }

    /// Keep a used continuation object for the next capture when nothing
    /// else holds it (it can then never be seen again).
    #[inline]
    pub fn recycle(&mut self, k: Value) {
        const SPARES: usize = 16;
        if let Value::Cont(c) = k {
            if Rc::strong_count(&c) == 1 && Rc::weak_count(&c) == 0 && !c.is_live() && self.spare_conts.len() < SPARES {
                self.spare_conts.push(c);
            }
        }
    }

    /// `pass`: consume k and escape to the clause activation ([K-Pass]).
    pub fn pass_form(&mut self, k: Value, effect: Option<Value>, node: NodeId) -> Flow {
        let stale_ok = faults::stale_accepted(Fault::StalePassAccepted, &k);
        let c = match stale_ok.map_or_else(|| self.check_cont(&k, node), Ok) {
            Ok(c) => c,
            Err(flow) => return flow,
        };
        if let Some(e) = &effect {
            if e.effect_parts().is_none() {
                self.rule(Rule::DNotEffect);
                return self.type_error("pass", "an effect", e, node);
            }
        }
        let chain = if faults::active(Fault::OneShotNotEnforced) { c.peek() } else { c.take() }.expect("checked live");
        self.escape(Escape { kind: EscapeKind::Pass { k: c.id, chain, effect }, site: node })
    }

    /// What `new-cont` checks of its function (E-Call-Arity, E-Call-NotFn):
    /// a kont function of one parameter or a callable host value; a failed
    /// check gives its rule and the error to raise.
    pub fn new_cont_check(&self, f: &Value) -> Result<(), (Rule, Value)> {
        match f {
            Value::Fn(i, env) => {
                let proto = self.code.groups[env.group as usize].protos[*i as usize];
                let n = self.code.protos[proto as usize].nparams;
                if n == 1 {
                    Ok(())
                } else {
                    Err((Rule::ECallArity, Value::from_data(&errors::arity(n as usize, 1))))
                }
            }
            Value::Host(h) if h.callable() => Ok(()),
            _ => Err((Rule::ECallNotFn, Value::error(ErrorTag::NotAFunction.name(), f.clone()))),
        }
    }

    /// `(new-cont f [k0])`: [K-NewCont], and [K-Envelope] with `k0`.
    pub fn new_cont(&mut self, f: Value, k0: Option<Value>, node: NodeId) -> Flow {
        if let Err((rule, err)) = self.new_cont_check(&f) {
            self.rule(rule);
            return self.fail_value(err, node);
        }
        let k0 = match &k0 {
            Some(k) => match faults::stale_accepted(Fault::StaleEnvelopeAccepted, k)
                .map_or_else(|| self.check_cont(k, node), Ok)
            {
                Ok(c) => Some(c),
                Err(flow) => return flow,
            },
            None => None,
        };
        let k = self.make_cont(f, k0.as_ref(), node)?;
        self.stack.push(Value::Cont(k));
        Flow::Continue(())
    }

    /// [K-Envelope] for a native scheduler's spawn: `(new-cont f k0)` with
    /// both already checked.
    pub fn envelope_cont(&mut self, f: Value, k0: &Rc<Continuation>, node: NodeId) -> Flow<Rc<Continuation>> {
        self.make_cont(f, Some(k0), node)
    }

    /// A fresh unstarted continuation of `f`, under copies of `k0`'s boundaries.
    pub fn make_cont(&mut self, f: Value, k0: Option<&Rc<Continuation>>, node: NodeId) -> Flow<Rc<Continuation>> {
        // The boundaries of k0's chain, innermost first.
        let mut source: Vec<Boundary> = Vec::new();
        if let Some(c) = k0 {
            self.rule(Rule::KEnvelope);
            let chain = c.peek().expect("checked live");
            let mut x = chain.head;
            loop {
                let b = self.fibers.boundary(x);
                if !matches!(b, Boundary::None) {
                    source.push(b.clone());
                }
                if x == chain.last {
                    break;
                }
                x = self.fibers.parent(x);
            }
        }
        self.rule(Rule::KNewCont);
        // Fresh installations of the same boundaries, innermost first.
        let mut copies = Vec::with_capacity(source.len());
        for b in source {
            let scope = self.new_scope();
            self.rule(Rule::BInstall);
            let (copy, kind, name, from) = match b {
                Boundary::Handler { scope: from, def, takes, env, native } => {
                    let name = self.code.handlers[def as usize].name.clone();
                    (Boundary::Handler { scope, def, takes, env, native }, BoundaryKind::Handler, name, from)
                }
                Boundary::Intercept { scope: from, def, func } => {
                    let kind = if self.code.intercepts[def as usize].observe {
                        BoundaryKind::Observe
                    } else {
                        BoundaryKind::Intercept
                    };
                    (Boundary::Intercept { scope, def, func }, kind, kind.name().to_string(), from)
                }
                Boundary::Host { scope: from, host } => {
                    let (kind, name) = (host.kind(), host.name());
                    (Boundary::Host { scope, host }, kind, name, from)
                }
                Boundary::None => unreachable!(),
            };
            self.emit(|_| Event::Install { scope, kind, name, copy_of: Some(from) });
            copies.push(copy);
        }
        let scopes: Vec<u32> = copies.iter().filter_map(Boundary::scope).collect();
        // Build the chain outermost first, so each fiber's parent exists.
        let mut parent = NONE;
        let mut last = NONE;
        if copies.is_empty() {
            copies.push(Boundary::None);
        }
        let mut head = NONE;
        for b in copies.into_iter().rev() {
            let id = self.alloc_fiber(parent, b)?;
            if last == NONE {
                last = id;
            }
            parent = id;
            head = id;
        }
        self.fibers.push_frame(head, Frame::Start { func: f, node });
        let id = self.new_cont_id();
        self.emit(|_| Event::NewCont { k: id, envelope: scopes });
        Flow::Continue(Rc::new(Continuation::new(id, self.run, Chain { head, last }, self.fibers.graveyard().clone())))
    }

    /// [K-Transfer] [K-TransferThrow] at a clause activation (also a native
    /// clause's): continue continuation `k` (its `chain`) with `value`, or
    /// raise it there when `throw_site` is given.
    #[inline]
    pub fn transfer(&mut self, k: u32, chain: Chain, value: Value, throw_site: Option<NodeId>) -> Flow {
        let throw = throw_site.is_some();
        self.rule(if throw { Rule::KTransferThrow } else { Rule::KTransfer });
        self.emit(|m| Event::Resume { k, mode: ResumeMode::Transfer, throw, value: m.view(&value) });
        self.reactivate(chain, value, throw_site)
    }
}
