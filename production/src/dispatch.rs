//! Dispatch: performing an effect, walking the boundaries outward from the
//! perform site, and what a boundary that takes the effect does — capture
//! the continuation and run a clause (D-Handle), call an interceptor or
//! observer (D-Intercept, D-Observe), or nobody takes it (D-Unhandled).
//! Trace events are emitted where the machine does the thing, with scope ids
//! read from the boundaries themselves.

use std::rc::Rc;

use kont_spec::errors;
use kont_spec::{BoundaryKind, ErrorTag, Event, NodeId, Rule, ValueView};

use crate::code::{takes_bit, InterceptDef, LabelId};
use crate::continuation::{Chain, Continuation};
use crate::faults::{self, Fault};
use crate::fiber::{Boundary, Dispatch, Frame, NONE};
use crate::host::{HOST_LABEL, HOST_SITE};
use crate::machine::{CallError, Flow, Machine};
use crate::value::Value;

impl Machine<'_, '_> {
    /// [D-Perform]: suspend the running function at the perform and dispatch.
    pub fn perform(&mut self, label: LabelId, payload: Value, site: NodeId) -> Flow {
        if self.unobserved {
            if let Some((v, fuel)) = self.tail_transfer(label, &payload) {
                self.took_tail_transfer(fuel);
                self.stack.push(v);
                return Flow::Continue(());
            }
        }
        let me = self.save();
        self.frames.push(me);
        self.perform_suspended(label, payload, site)
    }

    /// [D-Perform] once the performer (kont or host code) is suspended on top.
    #[inline]
    pub fn perform_suspended(&mut self, label: LabelId, payload: Value, site: NodeId) -> Flow {
        self.rule(Rule::DPerform);
        // C-Effect: a clause performing (only checked when counting rules).
        if self.counts.is_some() && self.frames.iter().any(|f| matches!(f, Frame::Activation { .. })) {
            self.rule(Rule::CEffect);
        }
        let d = self.new_dispatch();
        self.emit(|m| Event::Perform { dispatch: d, effect: m.effect_view(label, &payload), site });
        self.dispatch(Dispatch { d, label, payload, site, chain: None })
    }

    /// The view of the effect `label payload` (a host effect is its payload).
    pub fn effect_view(&self, label: LabelId, payload: &Value) -> ValueView {
        if label == HOST_LABEL {
            return self.view(payload);
        }
        ValueView::Effect { label: self.code.labels[label as usize].clone(), payload: Box::new(self.view(payload)) }
    }

    /// Walk boundaries outward from the running fiber (which has no running
    /// function: its top frame is suspended) until one takes the effect.
    pub fn dispatch(&mut self, ds: Dispatch) -> Flow {
        let label = ds.label;
        self.commit();
        let start = self.cur();
        let mut f = start;
        let mut steps = 0usize;
        loop {
            // A well-formed chain reaches the root: a cycle is an internal error.
            steps += 1;
            assert!(steps <= self.fibers.len(), "fiber chain cycle");
            match self.fibers.boundary(f) {
                Boundary::Handler { scope, def, takes, .. } => {
                    let h = &self.code.handlers[*def as usize];
                    let clause = if takes & takes_bit(label) == 0 {
                        None
                    } else if faults::active(Fault::FilterIgnored) {
                        h.clause_ignoring_filter(label)
                    } else {
                        h.clause_for(label)
                    };
                    if let Some(clause) = clause {
                        let (scope, def) = (*scope, *def);
                        return self.handle(ds, start, f, scope, def, clause);
                    }
                    let scope = *scope;
                    self.skip(ds.d, scope);
                }
                Boundary::Intercept { scope, def, .. } => {
                    if self.code.intercepts[*def as usize].matches(label) {
                        let (scope, def) = (*scope, *def);
                        return self.call_interceptor(ds, start, f, scope, def);
                    }
                    let scope = *scope;
                    self.skip(ds.d, scope);
                }
                Boundary::Host { scope, host } => {
                    let scope = *scope;
                    let effect = Value::effect_of(ds.label, &ds.payload);
                    if host.takes(&effect) {
                        let host = host.clone();
                        return self.host_boundary_takes(ds, start, f, scope, host, effect);
                    }
                    self.skip(ds.d, scope);
                }
                Boundary::None => {}
            }
            let parent = self.fibers.parent(f);
            if parent == NONE {
                return self.unhandled(ds, start);
            }
            f = parent;
        }
    }

    /// [D-Handle] / [D-Intercept] / [D-Observe] at a host boundary: capture
    /// (or detach) as for kont boundaries, then run its host code.
    pub fn host_boundary_takes(
        &mut self,
        ds: Dispatch,
        start: u32,
        b: u32,
        scope: u32,
        host: crate::host::SharedBoundary,
        effect: Value,
    ) -> Flow {
        match host.kind() {
            BoundaryKind::Handler => {
                let k = Value::Cont(self.capture(&ds, start, b, scope));
                self.frames.push(Frame::Activation {
                    d: ds.d,
                    scope,
                    site: ds.site,
                    label: ds.label,
                    payload: ds.payload,
                });
                match host.start(effect, Some(k)) {
                    Ok(clause) => self.resume_host(clause, crate::host::HostInput::Value(Value::Unit)),
                    // [C-Raise]: the clause could not start.
                    Err(err) => {
                        self.emit(|m| Event::Raise { error: m.view(&err), site: HOST_SITE });
                        self.raise_here(err, HOST_SITE)
                    }
                }
            }
            kind => {
                let observe = kind == BoundaryKind::Observe;
                let chain = self.detach(ds.chain, start, b);
                match host.start(effect, None) {
                    Ok(func) => {
                        let dispatch = Box::new(Dispatch { chain: Some(chain), ..ds });
                        self.frames.push(Frame::Intercept { dispatch, scope, observe, node: HOST_SITE });
                        self.resume_host(func, crate::host::HostInput::Value(Value::Unit))
                    }
                    // [I-Raise]: the function could not start.
                    Err(err) => {
                        self.rule(Rule::IRaise);
                        self.emit(|m| Event::Raise { error: m.view(&err), site: HOST_SITE });
                        self.emit(|m| Event::Threw { dispatch: ds.d, scope, error: m.view(&err) });
                        self.free_chain(chain);
                        self.raise_here(err, HOST_SITE)
                    }
                }
            }
        }
    }

    /// [D-Skip]
    pub fn skip(&mut self, d: u32, scope: u32) {
        self.rule(Rule::DSkip);
        self.emit(|_| Event::Skip { dispatch: d, scope });
    }

    /// Detach `start..=upto` and append it to the dispatch's chain. The
    /// running fiber becomes `upto`'s parent.
    #[inline]
    pub fn detach(&mut self, chain: Option<Chain>, start: u32, upto: u32) -> Chain {
        let parent = self.fibers.parent(upto);
        self.fibers.set_parent(upto, NONE);
        let c = match chain {
            Some(c) => {
                self.fibers.set_parent(c.last, start);
                Chain { head: c.head, last: upto }
            }
            None => Chain { head: start, last: upto },
        };
        if self.frames_in(c.head) > 0 {
            self.rule(Rule::POp);
        }
        self.enter(parent);
        c
    }

    pub fn frames_in(&self, f: u32) -> usize {
        self.fibers.frames(f).len()
    }

    /// [D-Handle]: capture k and run the clause on the boundary's parent.
    /// [D-Handle]'s capture: detach the chain up to boundary `b` into a new
    /// continuation (kont and host handlers alike).
    #[inline]
    fn capture(&mut self, ds: &Dispatch, start: u32, b: u32, scope: u32) -> Rc<Continuation> {
        self.rule(Rule::DHandle);
        let chain = self.detach(ds.chain, start, b);
        let id = self.new_cont_id();
        self.emit(|_| Event::Handle { dispatch: ds.d, scope, k: id });
        if let Some(k) = self.spare_conts.pop().and_then(|c| Continuation::reuse(c, id, chain)) {
            return k;
        }
        Rc::new(Continuation::new(id, self.run, chain, self.fibers.graveyard().clone()))
    }

    #[inline]
    pub fn handle(&mut self, ds: Dispatch, start: u32, b: u32, scope: u32, def: u32, clause: u32) -> Flow {
        let k = Value::Cont(self.capture(&ds, start, b, scope));
        let Boundary::Handler { env, native, .. } = self.fibers.boundary(b) else { unreachable!() };
        if let Some(state) = native {
            let Value::Cont(k) = k else { unreachable!() };
            let code = self.code;
            let label = &code.labels[ds.label as usize];
            return self.native_clause(state.clone(), (ds.d, scope), label.as_str(), ds.payload, k, ds.site);
        }
        let env = env.clone();
        let h = &self.code.handlers[def as usize];
        // A labelled clause gets the payload; the catch-all gets the whole effect.
        let arg = match &h.expr.clauses[clause as usize].label {
            Some(_) => ds.payload.clone(),
            None => Value::effect_of(ds.label, &ds.payload),
        };
        let proto = self.code.groups[h.group as usize].protos[clause as usize + 1];
        self.frames.push(Frame::Activation { d: ds.d, scope, site: ds.site, label: ds.label, payload: ds.payload });
        self.stack.push(arg);
        self.stack.push(k);
        let ret = self.stack.len() as u32 - 2;
        self.start_function(proto, env, 2, ret);
        Flow::Continue(())
    }

    /// [D-Intercept] / [D-Observe]: call the function on the boundary's parent.
    pub fn call_interceptor(&mut self, ds: Dispatch, start: u32, b: u32, scope: u32, def: u32) -> Flow {
        let chain = self.detach(ds.chain, start, b);
        let Boundary::Intercept { func, .. } = self.fibers.boundary(b) else { unreachable!() };
        let func = func.clone();
        let InterceptDef { node, observe, .. } = self.code.intercepts[def as usize];
        match self.callee(func, 1, node) {
            Ok((proto, env)) => {
                let arg = Value::effect_of(ds.label, &ds.payload);
                let dispatch = Box::new(Dispatch { chain: Some(chain), ..ds });
                self.frames.push(Frame::Intercept { dispatch, scope, observe, node });
                self.stack.push(arg);
                let ret = self.stack.len() as u32 - 1;
                self.start_function(proto, env, 1, ret);
                Flow::Continue(())
            }
            // The call itself failed: [I-Raise] at the install node.
            Err(CallError::Raise(err, at)) => {
                self.rule(Rule::IRaise);
                self.emit(|m| Event::Raise { error: m.view(&err), site: at });
                self.emit(|m| Event::Threw { dispatch: ds.d, scope, error: m.view(&err) });
                self.free_chain(chain);
                self.raise_here(err, at)
            }
            Err(CallError::Exit(exit)) => Flow::Break(exit),
        }
    }

    /// The interceptor or observer function of `scope` returned `v`; `node`
    /// is where its errors are raised.
    pub fn intercepted(&mut self, ds: Dispatch, scope: u32, observe: bool, node: NodeId, v: Value) -> Flow {
        if observe {
            self.rule(Rule::DObserve);
            self.emit(|_| Event::Observe { dispatch: ds.d, scope });
            return self.dispatch(ds);
        }
        match v.effect_parts() {
            Some((label, payload)) => {
                self.rule(Rule::DIntercept);
                self.emit(|m| Event::Intercept { dispatch: ds.d, scope, effect: m.effect_view(label, &payload) });
                self.dispatch(Dispatch { label, payload, ..ds })
            }
            None => {
                // [D-NotEffect], then [I-Raise] at the install node.
                let other = v;
                self.rule(Rule::DNotEffect);
                self.rule(Rule::IRaise);
                let e = errors::form_type_error("with-intercept", "an effect", other.type_name());
                self.emit(|_| Event::Raise { error: e.clone(), site: node });
                self.emit(|_| Event::Threw { dispatch: ds.d, scope, error: e.clone() });
                if let Some(c) = ds.chain {
                    self.free_chain(c);
                }
                self.raise_here(Value::from_data(&e), node)
            }
        }
    }

    /// [D-Unhandled]: nobody took the effect. Reattach what was detached and
    /// raise `unhandled` at the perform site, in the performing function.
    pub fn unhandled(&mut self, ds: Dispatch, start: u32) -> Flow {
        self.rule(Rule::DUnhandled);
        self.emit(|_| Event::Unhandled { dispatch: ds.d });
        let err = Value::error(ErrorTag::Unhandled.name(), Value::effect_of(ds.label, &ds.payload));
        self.emit(|m| Event::Raise { error: m.view(&err), site: ds.site });
        if faults::active(Fault::UnhandledAtTop) {
            return Flow::Break(crate::machine::Exit::Failed(err, ds.site));
        }
        let head = match ds.chain {
            Some(c) => {
                self.fibers.set_parent(c.last, start);
                c.head
            }
            None => start,
        };
        self.enter(head);
        self.resume_top(None, Some((err, ds.site)))
    }
}
