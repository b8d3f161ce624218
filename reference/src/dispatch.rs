//! Boundaries and dispatch (SPEC.md §5.4–5.6): what a handler, interceptor
//! or observer does with each result of its body, handler clause activations,
//! and the top of the run.

use std::cell::RefCell;
use std::rc::Rc;

use kont_spec::ast::{InterceptKind, ResumeMode};
use kont_spec::errors;
use kont_spec::{DispatchId, ErrorTag, Event, NodeId, Rule, ScopeId};

use crate::boundary::{Boundary, BoundaryData};
use crate::continuation::{ContBody, ContObj};
use crate::interp::Interp;
use crate::res::{EscKind, Kont, Op, Res, Resumption};
use crate::value::Value;

/// The dispatch a clause activation serves.
#[derive(Clone)]
struct Activation<'p> {
    d: DispatchId,
    scope: ScopeId,
    effect: Value<'p>,
    site: NodeId,
}

/// How a clause activation ends: with a result, or by handing its place to a
/// continuation (transfer: a tail call).
enum ActEnd<'p> {
    Done(Res<'p>),
    Tail(ContBody<'p>, Resumption<'p>),
}

impl<'p> Interp<'p> {
    /// bnd_b⟨r⟩: the boundary `b` receives its body's result `r`.
    /// Transfers from its clauses loop here instead of nesting (proper tail
    /// calls), so tail-resumptive handlers and schedulers run in constant stack.
    pub fn boundary(&mut self, mut b: Boundary<'p>, mut r: Res<'p>) -> Res<'p> {
        loop {
            let op = match r {
                // [B-Return]: no return clause; the body's value passes through.
                Res::Val(v) => {
                    self.rule(Rule::BReturn);
                    return Res::Val(v);
                }
                // [B-Unwind]
                Res::Err(v, n) => {
                    self.rule(Rule::BUnwind);
                    self.emit(|run| Event::Unwind { scope: b.scope, error: v.view(run) });
                    return Res::Err(v, n);
                }
                Res::Esc(_) => {
                    self.rule(Rule::PEsc);
                    return r;
                }
                Res::Exh(_) => return r,
                Res::Op(op) => op,
            };
            let label = match &op.effect {
                Value::Effect(e) => e.0.clone(),
                _ => unreachable!("only effect values are dispatched"),
            };
            // [D-Skip]: the effect passes by; the boundary stays in its continuation.
            if !b.takes_part(&label) {
                self.emit(|_| Event::Skip { dispatch: op.d, scope: b.scope });
                return self.cross(Rule::DSkip, op, b);
            }
            let (h, env) = match &b.kind {
                BoundaryData::Handler { h, env } => (*h, env.clone()),
                BoundaryData::Intercept { .. } => return self.intercept(b, op),
            };
            // [D-Handle]: capture k (the body's context plus this boundary) and
            // run the clause here, outside the boundary.
            self.rule(Rule::DHandle);
            let Op { d, effect, site, k: inner, mut crossed } = *op;
            crossed.push(b.clone());
            let id = self.new_cont_id();
            let body = ContBody { inner, outer: Some(b.clone()), envelope: crossed };
            let k = Rc::new(ContObj { id, run: self.run, body: RefCell::new(Some(body)) });
            self.emit(|_| Event::Handle { dispatch: d, scope: b.scope, k: id });
            let clause = h.clause_for(&label).expect("accepted");
            let arg = match (&clause.label, &effect) {
                (Some(_), Value::Effect(e)) => e.1.clone(),
                _ => effect.clone(),
            };
            let cenv = env.bind(&clause.param, arg).bind(&clause.k, Value::Cont(k));
            let c = self.eval(&clause.body, &cenv);
            let a = Activation { d, scope: b.scope, effect, site };
            match self.act(a, c) {
                ActEnd::Done(res) => return res,
                // [K-Transfer]: resume(k') is this boundary's result; when k'
                // re-enters a boundary, continue as that boundary.
                ActEnd::Tail(body, res) => {
                    let ContBody { inner, outer, .. } = body;
                    r = inner.call(self, res);
                    match outer {
                        Some(b2) => b = b2,
                        None => return r,
                    }
                }
            }
        }
    }

    /// The effect crosses boundary `b` outward under `rule` (D-Skip, D-Observe,
    /// D-Intercept): `b` joins its continuation and its envelope.
    fn cross(&mut self, rule: Rule, mut op: Box<Op<'p>>, b: Boundary<'p>) -> Res<'p> {
        op.crossed.push(b.clone());
        self.take_along(rule, op, move |m, r| m.boundary(b, r))
    }

    /// act_{d,s}⟨c⟩: a clause activation receives its clause body's result.
    fn act(&mut self, a: Activation<'p>, c: Res<'p>) -> ActEnd<'p> {
        match c {
            // [C-Return]: the clause's value is the with-handler's value; an
            // unconsumed k is simply abandoned (nothing runs).
            Res::Val(v) => {
                self.rule(Rule::CReturn);
                self.emit(|run| Event::Return { dispatch: a.d, scope: a.scope, value: v.view(run) });
                ActEnd::Done(Res::Val(v))
            }
            // [C-Raise]: the error leaves from the with-handler site; k is untouched.
            Res::Err(v, n) => {
                self.rule(Rule::CRaise);
                self.emit(|run| Event::Threw { dispatch: a.d, scope: a.scope, error: v.view(run) });
                ActEnd::Done(Res::Err(v, n))
            }
            // [C-Effect]: the clause's own effect goes out from the with-handler site.
            Res::Op(op) => ActEnd::Done(self.take_along(Rule::CEffect, op, move |m, r| match m.act(a, r) {
                ActEnd::Done(res) => res,
                ActEnd::Tail(body, res) => m.resume_body(body, res),
            })),
            Res::Esc(esc) => match esc.kind {
                EscKind::Transfer { k, body, res } => {
                    let throw = matches!(res, Resumption::Throw(..));
                    self.rule(if throw { Rule::KTransferThrow } else { Rule::KTransfer });
                    let value = match &res {
                        Resumption::Resume(v) | Resumption::Throw(v, _) => v.view(self.run),
                    };
                    self.emit(|_| Event::Resume { k, mode: ResumeMode::Transfer, throw, value });
                    ActEnd::Tail(body, res)
                }
                // [K-Pass]: dispatch `d` goes on outward from here with the same continuation.
                EscKind::Pass { k, body, effect } => {
                    self.rule(Rule::KPass);
                    let effect = effect.unwrap_or(a.effect);
                    self.emit(|run| Event::Pass { dispatch: a.d, scope: a.scope, k, effect: effect.view(run) });
                    // use(k) = (body, β): both move on with the dispatch, as
                    // `op d ε'' body β`. Moved, not copied: in a chain of
                    // passes each β is the next one's prefix, and keeping a
                    // copy per pass would make the chain's memory quadratic.
                    let ContBody { inner, outer, envelope } = body;
                    let kont = Kont::new(move |m, r| m.reactivate(inner, outer, r));
                    ActEnd::Done(Res::Op(Box::new(Op { d: a.d, effect, site: a.site, k: kont, crossed: envelope })))
                }
            },
            Res::Exh(_) => ActEnd::Done(c),
        }
    }

    /// [D-Intercept] / [D-Observe]: call the function here, outside the boundary.
    fn intercept(&mut self, b: Boundary<'p>, op: Box<Op<'p>>) -> Res<'p> {
        let BoundaryData::Intercept { f, node, .. } = &b.kind else { unreachable!() };
        let (f, node) = (f.clone(), *node);
        let arg = op.effect.clone();
        let s = self.apply(f, vec![arg], node);
        let r = self.finish(s);
        self.icall(b, op, r)
    }

    /// The interceptor's call returned `r`; `op` waits for it.
    fn icall(&mut self, b: Boundary<'p>, op: Box<Op<'p>>, r: Res<'p>) -> Res<'p> {
        let BoundaryData::Intercept { x, node, .. } = &b.kind else { unreachable!() };
        let (observe, node) = (x.kind == InterceptKind::Observe, *node);
        match r {
            Res::Val(_) if observe => {
                self.emit(|_| Event::Observe { dispatch: op.d, scope: b.scope });
                self.cross(Rule::DObserve, op, b)
            }
            Res::Val(v @ Value::Effect(_)) => {
                self.emit(|run| Event::Intercept { dispatch: op.d, scope: b.scope, effect: v.view(run) });
                let mut op = op;
                op.effect = v;
                self.cross(Rule::DIntercept, op, b)
            }
            Res::Val(other) => {
                let e = self.not_effect("with-intercept", &other, node);
                self.icall(b, op, e)
            }
            // [I-Raise]: the dispatch is abandoned; the error leaves from the install site.
            Res::Err(v, n) => {
                self.rule(Rule::IRaise);
                self.emit(|run| Event::Threw { dispatch: op.d, scope: b.scope, error: v.view(run) });
                Res::Err(v, n)
            }
            Res::Op(inner) => self.take_along(Rule::POp, inner, move |m, r| m.icall(b, op, r)),
            // [K-Outside]: an interceptor call is not a clause.
            Res::Esc(esc) => {
                let e = self.outside(esc.kind.form(), esc.site);
                self.icall(b, op, e)
            }
            Res::Exh(_) => r,
        }
    }

    /// [K-Outside]
    fn outside(&mut self, form: &str, site: NodeId) -> Res<'p> {
        self.rule(Rule::KOutside);
        self.fail(errors::outside_clause(form), site)
    }

    /// The top of the run: [D-Unhandled] throws into the continuation at the
    /// perform site; an escape reaching the top is [K-Outside].
    pub fn top(&mut self, mut r: Res<'p>) -> Res<'p> {
        loop {
            match r {
                Res::Op(op) => {
                    self.rule(Rule::DUnhandled);
                    let Op { d, effect, site, k, .. } = *op;
                    self.emit(|_| Event::Unhandled { dispatch: d });
                    let error = Value::error(ErrorTag::Unhandled.name(), effect);
                    self.emit(|run| Event::Raise { error: error.view(run), site });
                    r = k.call(self, Resumption::Throw(error, site));
                }
                Res::Esc(esc) => r = self.outside(esc.kind.form(), esc.site),
                other => return other,
            }
        }
    }
}
