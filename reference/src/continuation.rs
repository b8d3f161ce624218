//! Continuation objects (SPEC.md §4.4) and the operations on them (§5.7):
//! the checks of every use, reactivation, the one-shot rule, escapes, and
//! unstarted continuations.
//!
//! A continuation owns its whole suspended computation: the meta-continuation
//! from the perform site (`inner`), the boundary that caught it (`outer`, the
//! deep handler re-entered on reactivation) and its envelope, the ordered list
//! of boundaries inside it. Nothing about it lives anywhere else.

use std::cell::RefCell;
use std::rc::Rc;

use kont_spec::ast::ResumeMode;
use kont_spec::errors::{self, form_type_error};
use kont_spec::{ContId, ErrorTag, Event, NodeId, Rule};

use crate::boundary::Boundary;
use crate::interp::Interp;
use crate::res::{Esc, EscKind, Kont, Res, Resumption};
use crate::value::Value;

/// The suspended computation: resuming it with ρ̂ means `outer⟨inner(ρ̂)⟩`.
pub struct ContBody<'p> {
    pub inner: Kont<'p>,
    pub outer: Option<Boundary<'p>>,
    /// Boundaries inside the continuation, innermost first (`outer` last).
    pub envelope: Vec<Boundary<'p>>,
}

/// A first-class continuation value. One-shot: its body is taken on use.
pub struct ContObj<'p> {
    pub id: ContId,
    pub run: u64,
    pub body: RefCell<Option<ContBody<'p>>>,
}

impl<'p> ContObj<'p> {
    pub fn is_live(&self) -> bool {
        self.body.borrow().is_some()
    }

    /// Consume the continuation (the one-shot rule).
    pub fn take(&self) -> Option<ContBody<'p>> {
        self.body.borrow_mut().take()
    }
}

impl<'p> Interp<'p> {
    /// The checks every use of a continuation makes, in order:
    /// [K-NotCont], [K-Stale], [K-OneShot]. Nothing is consumed.
    pub fn cont_arg(&mut self, kv: Value<'p>, n: NodeId) -> Result<Rc<ContObj<'p>>, Res<'p>> {
        match kv {
            Value::Cont(k) if k.run != self.run => {
                self.rule(Rule::KStale);
                Err(self.fail_with(ErrorTag::Stale, Value::Cont(k), n))
            }
            Value::Cont(k) if !k.is_live() => {
                self.rule(Rule::KOneShot);
                Err(self.fail_with(ErrorTag::OneShot, Value::Cont(k), n))
            }
            Value::Cont(k) => Ok(k),
            other => {
                self.rule(Rule::KNotCont);
                Err(self.fail_with(ErrorTag::NotAContinuation, other, n))
            }
        }
    }

    /// `(resume k v)`, `(resume-throw k e)`, `(transfer k v)`, `(transfer-throw k e)` at `n`.
    pub fn resume_form(&mut self, mode: ResumeMode, throw: bool, kv: Value<'p>, v: Value<'p>, n: NodeId) -> Res<'p> {
        let k = match self.cont_arg(kv, n) {
            Ok(k) => k,
            Err(r) => return r,
        };
        if throw && !matches!(v, Value::Error(_)) {
            self.rule(Rule::XNotError);
            let form = if mode == ResumeMode::Resume { "resume-throw" } else { "transfer-throw" };
            return self.fail(form_type_error(form, "an error value", v.type_name()), n);
        }
        let body = k.take().expect("checked live");
        let view = v.view(self.run);
        let res = if throw { Resumption::Throw(v, n) } else { Resumption::Resume(v) };
        match mode {
            // [K-Resume] [K-ResumeThrow]: reactivate under the resumer, here.
            ResumeMode::Resume => {
                self.rule(if throw { Rule::KResumeThrow } else { Rule::KResume });
                self.emit(|_| Event::Resume { k: k.id, mode, throw, value: view });
                self.resume_body(body, res)
            }
            // [K-Transfer] [K-TransferThrow]: first leave the clause.
            ResumeMode::Transfer => Res::Esc(Box::new(Esc { kind: EscKind::Transfer { k: k.id, body, res }, site: n })),
        }
    }

    /// `(pass k [effect])` at `n`: consume `k` and leave the clause ([K-Pass]).
    pub fn pass_form(&mut self, kv: Value<'p>, effect: Option<Value<'p>>, n: NodeId) -> Res<'p> {
        let k = match self.cont_arg(kv, n) {
            Ok(k) => k,
            Err(r) => return r,
        };
        if let Some(e) = &effect {
            if !matches!(e, Value::Effect(_)) {
                return self.not_effect("pass", e, n);
            }
        }
        let body = k.take().expect("checked live");
        Res::Esc(Box::new(Esc { kind: EscKind::Pass { k: k.id, body, effect }, site: n }))
    }

    /// Reactivate a suspended computation: `outer⟨inner(ρ̂)⟩`.
    pub fn resume_body(&mut self, body: ContBody<'p>, r: Resumption<'p>) -> Res<'p> {
        let ContBody { inner, outer, .. } = body;
        self.reactivate(inner, outer, r)
    }

    /// `outer⟨inner(ρ̂)⟩`: the envelope plays no part in reactivation.
    pub fn reactivate(&mut self, inner: Kont<'p>, outer: Option<Boundary<'p>>, r: Resumption<'p>) -> Res<'p> {
        let res = inner.call(self, r);
        match outer {
            Some(b) => self.boundary(b, res),
            None => res,
        }
    }

    /// `(new-cont f [k0])` at `n`: [K-NewCont], and [K-Envelope] with `k0`.
    pub fn new_cont(&mut self, f: Value<'p>, k0: Option<Value<'p>>, n: NodeId) -> Res<'p> {
        match &f {
            Value::Fn(c) if c.lambda().params.len() == 1 => {}
            Value::Fn(c) => {
                self.rule(Rule::ECallArity);
                let params = c.lambda().params.len();
                return self.fail(errors::arity(params, 1), n);
            }
            _ => {
                self.rule(Rule::ECallNotFn);
                return self.fail_with(ErrorTag::NotAFunction, f, n);
            }
        }
        let source: Vec<Boundary<'p>> = match k0 {
            None => Vec::new(),
            Some(kv) => match self.cont_arg(kv, n) {
                Ok(k) => {
                    self.rule(Rule::KEnvelope);
                    k.body.borrow().as_ref().expect("checked live").envelope.clone()
                }
                Err(r) => return r,
            },
        };
        self.rule(Rule::KNewCont);
        // Fresh installations of the same boundaries, innermost first.
        let copies: Vec<Boundary<'p>> = source.iter().map(|b| self.install(b.kind.clone(), Some(b.scope))).collect();
        let mut inner = Kont::new(move |m, r| m.start(f, r, n));
        let (outer, within) = match copies.split_last() {
            Some((last, within)) => (Some(last.clone()), within),
            None => (None, &copies[..]),
        };
        for b in within.iter().cloned() {
            inner = inner.wrap(move |m, r| m.boundary(b, r));
        }
        let id = self.new_cont_id();
        self.emit(|_| Event::NewCont { k: id, envelope: copies.iter().map(|b| b.scope).collect() });
        let body = ContBody { inner, outer, envelope: copies };
        Res::Val(Value::Cont(Rc::new(ContObj { id, run: self.run, body: RefCell::new(Some(body)) })))
    }

    /// [K-Start]: the first reactivation of an unstarted continuation calls `f`
    /// with the resumed value; a throw is raised before `f` starts.
    fn start(&mut self, f: Value<'p>, r: Resumption<'p>, n: NodeId) -> Res<'p> {
        self.rule(Rule::KStart);
        match r {
            Resumption::Resume(v) => {
                let s = self.apply(f, vec![v], n);
                self.finish(s)
            }
            Resumption::Throw(v, at) => Res::Err(v, at),
        }
    }
}
