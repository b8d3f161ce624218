//! Installing boundaries, dispatching effects, and continuations: capture
//! (detach a chain), reactivation (relink it), pass, and unstarted
//! continuations. Trace events are emitted here, where the machine does the
//! thing, with scope ids read from the boundaries themselves.

use std::rc::Rc;

use kont_spec::ast::ResumeMode;
use kont_spec::errors;
use kont_spec::{BoundaryKind, ErrorTag, Event, NodeId, Rule, ValueView};

use crate::code::{InterceptDef, LabelId};
use crate::continuation::{Chain, Continuation};
use crate::faults::{self, Fault};
use crate::fiber::{Boundary, Dispatch, Escape, EscapeKind, Frame, NONE};
use crate::host::{HOST_LABEL, HOST_SITE};
use crate::machine::{CallError, Flow, Machine, Stop};
use crate::value::Env;
use crate::value::Value;

impl Machine<'_, '_> {
    /// [B-Install] for `with-handler`: a fresh fiber whose base is the prompt.
    pub fn with_handler(&mut self, def: u32) -> Flow {
        let h = &self.code.handlers[def as usize];
        let group = h.group;
        let env = self.make_env(group);
        let scope = self.new_scope();
        self.rule(Rule::BInstall);
        self.emit(|m| Event::Install {
            scope,
            kind: BoundaryKind::Handler,
            name: m.code.handlers[def as usize].name.clone(),
            copy_of: None,
        });
        let body = self.code.groups[group as usize].protos[0];
        let native = self.code.handlers[def as usize].native.map(crate::native::new_state);
        self.natives_used |= native.is_some();
        self.open_boundary(Boundary::Handler { scope, def, env: env.clone(), native }, body, env)
    }

    /// [B-Install] for `with-intercept` / `with-observe`.
    pub fn with_intercept(&mut self, def: u32, func: Value) -> Flow {
        let i = &self.code.intercepts[def as usize];
        let (group, observe) = (i.group, i.observe);
        let env = self.make_env(group);
        let scope = self.new_scope();
        self.rule(Rule::BInstall);
        let kind = if observe { BoundaryKind::Observe } else { BoundaryKind::Intercept };
        self.emit(|_| Event::Install { scope, kind, name: kind.name().to_string(), copy_of: None });
        let body = self.code.groups[group as usize].protos[0];
        self.open_boundary(Boundary::Intercept { scope, def, func }, body, env)
    }

    /// Suspend the running function and run `body` in a new fiber based on `b`.
    fn open_boundary(&mut self, b: Boundary, body: u32, env: Rc<Env>) -> Flow {
        let caller = self.save();
        self.frames.push(caller);
        let f = self.alloc_fiber(self.cur, b)?;
        self.switch(f);
        self.start_function(body, env, 0, 0);
        Ok(())
    }

    /// [D-Perform]: suspend the running function at the perform and dispatch.
    pub fn perform(&mut self, label: LabelId, payload: Value, site: NodeId) -> Flow {
        self.rule(Rule::DPerform);
        // C-Effect: a clause performing (only checked when counting rules).
        if self.counts.is_some() && self.frames.iter().any(|f| matches!(f, Frame::Activation { .. })) {
            self.rule(Rule::CEffect);
        }
        let d = self.new_dispatch();
        self.emit(|m| Event::Perform { dispatch: d, effect: m.effect_view(label, &payload), site });
        let me = self.save();
        self.frames.push(me);
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
        let start = self.cur;
        let mut f = start;
        let mut steps = 0usize;
        loop {
            // A well-formed chain reaches the root: a cycle is an internal error.
            steps += 1;
            assert!(steps <= self.arena.len(), "fiber chain cycle");
            let fiber = &self.arena[f as usize];
            match &fiber.boundary {
                Boundary::Handler { scope, def, .. } => {
                    if let Some(clause) = self.code.handlers[*def as usize].clause_for(label) {
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
            let parent = self.arena[f as usize].parent;
            if parent == NONE {
                return self.unhandled(ds, start);
            }
            f = parent;
        }
    }

    /// [D-Handle] / [D-Intercept] / [D-Observe] at a host boundary: capture
    /// (or detach) as for kont boundaries, then run its host code.
    fn host_boundary_takes(
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
                self.rule(Rule::DHandle);
                let chain = self.detach(ds.chain, start, b);
                let id = self.new_cont_id();
                let k = Value::Cont(Rc::new(Continuation::new(id, self.run, chain, self.graveyard.clone())));
                self.emit(|_| Event::Handle { dispatch: ds.d, scope, k: id });
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
    fn skip(&mut self, d: u32, scope: u32) {
        self.rule(Rule::DSkip);
        self.emit(|_| Event::Skip { dispatch: d, scope });
    }

    /// Detach `start..=upto` and append it to the dispatch's chain. The
    /// running fiber becomes `upto`'s parent.
    fn detach(&mut self, chain: Option<Chain>, start: u32, upto: u32) -> Chain {
        let parent = self.arena[upto as usize].parent;
        self.arena[upto as usize].parent = NONE;
        let c = match chain {
            Some(c) => {
                self.arena[c.last as usize].parent = start;
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

    fn frames_in(&self, f: u32) -> usize {
        self.arena[f as usize].frames.len()
    }

    /// [D-Handle]: capture k and run the clause on the boundary's parent.
    fn handle(&mut self, ds: Dispatch, start: u32, b: u32, scope: u32, def: u32, clause: u32) -> Flow {
        self.rule(Rule::DHandle);
        let chain = self.detach(ds.chain, start, b);
        let id = self.new_cont_id();
        let k = Value::Cont(Rc::new(Continuation::new(id, self.run, chain, self.graveyard.clone())));
        self.emit(|_| Event::Handle { dispatch: ds.d, scope, k: id });
        let Boundary::Handler { env, native, .. } = &self.arena[b as usize].boundary else { unreachable!() };
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
        Ok(())
    }

    /// [D-Intercept] / [D-Observe]: call the function on the boundary's parent.
    fn call_interceptor(&mut self, ds: Dispatch, start: u32, b: u32, scope: u32, def: u32) -> Flow {
        let chain = self.detach(ds.chain, start, b);
        let Boundary::Intercept { func, .. } = &self.arena[b as usize].boundary else { unreachable!() };
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
                Ok(())
            }
            // The call itself failed: [I-Raise] at the install node.
            Err(CallError::Raise(err, at)) => {
                self.rule(Rule::IRaise);
                self.emit(|m| Event::Raise { error: m.view(&err), site: at });
                self.emit(|m| Event::Threw { dispatch: ds.d, scope, error: m.view(&err) });
                self.free_chain(chain);
                self.raise_here(err, at)
            }
            Err(CallError::Stop(stop)) => Err(stop),
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
    fn unhandled(&mut self, ds: Dispatch, start: u32) -> Flow {
        self.rule(Rule::DUnhandled);
        self.emit(|_| Event::Unhandled { dispatch: ds.d });
        let err = Value::error(ErrorTag::Unhandled.name(), Value::effect_of(ds.label, &ds.payload));
        self.emit(|m| Event::Raise { error: m.view(&err), site: ds.site });
        if faults::active(Fault::UnhandledAtTop) {
            return Err(crate::machine::Stop::Error(err, ds.site));
        }
        let head = match ds.chain {
            Some(c) => {
                self.arena[c.last as usize].parent = start;
                c.head
            }
            None => start,
        };
        self.enter(head);
        self.resume_top(None, Some((err, ds.site)))
    }

    /// Continue the running fiber's top frame with a value or an error.
    fn resume_top(&mut self, value: Option<Value>, throw: Option<(Value, NodeId)>) -> Flow {
        match self.frames.pop() {
            Some(Frame::Code(s)) => {
                self.restore(s);
                match throw {
                    Some((err, at)) => self.raise(err, at),
                    None => {
                        self.stack.push(value.expect("a value"));
                        Ok(())
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
                            Ok(())
                        }
                        Err(CallError::Stop(stop)) => Err(stop),
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
    pub fn reactivate(&mut self, chain: Chain, value: Value, throw_site: Option<NodeId>) -> Flow {
        self.arena[chain.last as usize].parent = self.cur;
        if faults::active(Fault::ResumeLosesInterceptor) || faults::active(Fault::ShallowHandler) {
            self.inject_reactivation_fault(chain);
        }
        self.switch(chain.head);
        match throw_site {
            Some(at) => self.resume_top(None, Some((value, at))),
            None => self.resume_top(Some(value), None),
        }
    }

    fn inject_reactivation_fault(&mut self, chain: Chain) {
        if faults::active(Fault::ShallowHandler) {
            if let Boundary::Handler { .. } = self.arena[chain.last as usize].boundary {
                self.arena[chain.last as usize].boundary = Boundary::None;
            }
            return;
        }
        let mut x = chain.head;
        loop {
            if let Boundary::Intercept { .. } = self.arena[x as usize].boundary {
                self.arena[x as usize].boundary = Boundary::None;
            }
            if x == chain.last {
                break;
            }
            x = self.arena[x as usize].parent;
        }
    }

    /// The checks of every continuation use, in order: [K-NotCont], [K-Stale],
    /// [K-OneShot]; a failed check gives its rule and the error to raise.
    pub fn cont_check(&self, k: &Value) -> Result<Rc<Continuation>, (Rule, Value)> {
        match k {
            Value::Cont(c) if c.run != self.run => Err((Rule::KStale, Value::error(ErrorTag::Stale.name(), k.clone()))),
            Value::Cont(c) if !c.is_live() => Err((Rule::KOneShot, Value::error(ErrorTag::OneShot.name(), k.clone()))),
            Value::Cont(c) => Ok(c.clone()),
            other => Err((Rule::KNotCont, Value::error(ErrorTag::NotAContinuation.name(), other.clone()))),
        }
    }

    /// `cont_check` for code: a failed check raises in the running function.
    fn check_cont(&mut self, k: &Value, node: NodeId) -> Result<Rc<Continuation>, Flow> {
        self.cont_check(k).map_err(|(rule, err)| {
            self.rule(rule);
            self.fail_value(err, node)
        })
    }

    /// `resume`, `resume-throw`, `transfer`, `transfer-throw`.
    pub fn resume_form(&mut self, mode: ResumeMode, throw: bool, k: Value, v: Value, node: NodeId) -> Flow {
        let c = match self.check_cont(&k, node) {
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
        match mode {
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
        }
    }

    /// `pass`: consume k and escape to the clause activation ([K-Pass]).
    pub fn pass_form(&mut self, k: Value, effect: Option<Value>, node: NodeId) -> Flow {
        let c = match self.check_cont(&k, node) {
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

    /// `(new-cont f [k0])`: [K-NewCont], and [K-Envelope] with `k0`.
    pub fn new_cont(&mut self, f: Value, k0: Option<Value>, node: NodeId) -> Flow {
        match &f {
            Value::Fn(i, env) => {
                let proto = self.code.groups[env.group as usize].protos[*i as usize];
                let n = self.code.protos[proto as usize].nparams;
                if n != 1 {
                    self.rule(Rule::ECallArity);
                    return self.fail(errors::arity(n as usize, 1), node);
                }
            }
            Value::Host(h) if h.callable() => {}
            _ => {
                self.rule(Rule::ECallNotFn);
                let err = Value::error(ErrorTag::NotAFunction.name(), f);
                return self.fail_value(err, node);
            }
        }
        let k0 = match &k0 {
            Some(k) => match self.check_cont(k, node) {
                Ok(c) => Some(c),
                Err(flow) => return flow,
            },
            None => None,
        };
        let k = self.make_cont(f, k0.as_ref(), node)?;
        self.stack.push(Value::Cont(k));
        Ok(())
    }

    /// [K-Envelope] for a native scheduler's spawn: `(new-cont f k0)` with
    /// both already checked.
    pub fn envelope_cont(&mut self, f: Value, k0: &Rc<Continuation>, node: NodeId) -> Result<Rc<Continuation>, Stop> {
        self.make_cont(f, Some(k0), node)
    }

    /// A fresh unstarted continuation of `f`, under copies of `k0`'s boundaries.
    pub fn make_cont(
        &mut self,
        f: Value,
        k0: Option<&Rc<Continuation>>,
        node: NodeId,
    ) -> Result<Rc<Continuation>, Stop> {
        // The boundaries of k0's chain, innermost first.
        let mut source: Vec<Boundary> = Vec::new();
        if let Some(c) = k0 {
            self.rule(Rule::KEnvelope);
            let chain = c.peek().expect("checked live");
            let mut x = chain.head;
            loop {
                let b = &self.arena[x as usize].boundary;
                if !matches!(b, Boundary::None) {
                    source.push(b.clone());
                }
                if x == chain.last {
                    break;
                }
                x = self.arena[x as usize].parent;
            }
        }
        self.rule(Rule::KNewCont);
        // Fresh installations of the same boundaries, innermost first.
        let mut copies = Vec::with_capacity(source.len());
        for b in source {
            let scope = self.new_scope();
            self.rule(Rule::BInstall);
            let (copy, kind, name, from) = match b {
                Boundary::Handler { scope: from, def, env, native } => {
                    let name = self.code.handlers[def as usize].name.clone();
                    (Boundary::Handler { scope, def, env, native }, BoundaryKind::Handler, name, from)
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
        self.arena[head as usize].frames.push(Frame::Start { func: f, node });
        let id = self.new_cont_id();
        self.emit(|_| Event::NewCont { k: id, envelope: scopes });
        Ok(Rc::new(Continuation::new(id, self.run, Chain { head, last }, self.graveyard.clone())))
    }
}
