//! `ρ ⊢ e ⇓ r`: one function arm per expression rule of SPEC.md §5.
//!
//! Values flow through `bind` (rules P-Op, P-Err, P-Esc): a suspended effect
//! extends its meta-continuation with the rest of the construct, errors and
//! escapes pass the construct by. Tail positions return `Step::Eval` so loops
//! written with recursion run in constant native stack.

use kont_spec::ast::*;
use kont_spec::errors::{self, form_type_error};
use kont_spec::{ErrorTag, Event, NodeId, Resource, Rule};

use crate::boundary::{Boundary, BoundaryData};
use crate::env::Env;
use crate::interp::Interp;
use crate::res::{Kont, Op, Res, Step};
use crate::value::{Closure, Code, Shared, Value};

type Then<'p> = Box<dyn FnOnce(&mut Interp<'p>, Vec<Value<'p>>) -> Step<'p> + 'p>;

impl<'p> Interp<'p> {
    /// ρ ⊢ e ⇓ r, with R-Fuel charged for every node entered.
    pub fn eval(&mut self, e: &'p Expr, env: &Env<'p>) -> Res<'p> {
        self.nested(|m| {
            let (mut e, mut env) = (e, env.clone());
            loop {
                if !m.charge() {
                    return Res::Exh(kont_spec::Resource::Fuel);
                }
                match m.node(e, &env) {
                    Step::Done(r) => return r,
                    Step::Eval(e2, env2) => {
                        e = e2;
                        env = env2;
                    }
                }
            }
        })
    }

    /// Finish a step: evaluate its tail expression if it has one.
    pub fn finish(&mut self, s: Step<'p>) -> Res<'p> {
        match s {
            Step::Done(r) => r,
            Step::Eval(e, env) => self.eval(e, &env),
        }
    }

    /// SPEC.md §4.3, `W⟨op d ε κ β⟩ = op d ε (W ∘ κ) β`: an effect in flight
    /// takes the construct it leaves along — resuming it re-enters `w`. Every
    /// construct that lets an effect pass (a value frame under P-Op, `try`,
    /// a boundary it skips or that observed it, a clause activation, an
    /// interceptor's call) goes through here, counting the rule that applies.
    pub fn take_along(
        &mut self,
        rule: Rule,
        mut op: Box<Op<'p>>,
        w: impl FnOnce(&mut Interp<'p>, Res<'p>) -> Res<'p> + 'p,
    ) -> Res<'p> {
        self.rule(rule);
        op.k = op.k.wrap(w);
        Res::Op(op)
    }

    /// r ▷ F for results (rules P-Op, P-Err, P-Esc). Under P-Op the frame
    /// taken along is `· ▷ F`, so `(κ ; F)(ρ̂) = κ(ρ̂) ▷ F`.
    pub fn bind(&mut self, r: Res<'p>, f: impl FnOnce(&mut Interp<'p>, Value<'p>) -> Res<'p> + 'p) -> Res<'p> {
        match r {
            Res::Val(v) => f(self, v),
            Res::Op(op) => self.take_along(Rule::POp, op, move |m, r| m.bind(r, f)),
            Res::Err(..) => {
                self.rule(Rule::PErr);
                r
            }
            Res::Esc(_) => {
                self.rule(Rule::PEsc);
                r
            }
            Res::Exh(_) => r,
        }
    }

    /// r ▷ F where F may continue in tail position.
    fn then(&mut self, r: Res<'p>, f: impl FnOnce(&mut Interp<'p>, Value<'p>) -> Step<'p> + 'p) -> Step<'p> {
        match r {
            Res::Val(v) => f(self, v),
            other => Step::Done(self.bind(other, move |m, v| {
                let s = f(m, v);
                m.finish(s)
            })),
        }
    }

    /// Evaluate `ops` left to right, then continue with their values.
    fn all(&mut self, ops: Vec<&'p Expr>, env: &Env<'p>, k: Then<'p>) -> Step<'p> {
        let acc = Vec::with_capacity(ops.len());
        self.all_from(ops, 0, env, acc, k)
    }

    fn all_from(
        &mut self,
        ops: Vec<&'p Expr>,
        start: usize,
        env: &Env<'p>,
        mut acc: Vec<Value<'p>>,
        k: Then<'p>,
    ) -> Step<'p> {
        for i in start..ops.len() {
            match self.eval(ops[i], env) {
                Res::Val(v) => acc.push(v),
                other => {
                    let env = env.clone();
                    return Step::Done(self.bind(other, move |m, v| {
                        acc.push(v);
                        let s = m.all_from(ops, i + 1, &env, acc, k);
                        m.finish(s)
                    }));
                }
            }
        }
        k(self, acc)
    }

    fn node(&mut self, e: &'p Expr, env: &Env<'p>) -> Step<'p> {
        let n = e.id;
        match &e.kind {
            // [E-Lit]
            ExprKind::Lit(l) => {
                self.rule(Rule::ELit);
                Step::Done(Res::Val(match l {
                    Lit::Unit => Value::Unit,
                    Lit::Bool(b) => Value::Bool(*b),
                    Lit::Int(i) => Value::Int(*i),
                    Lit::Str(s) => Value::str(s),
                }))
            }
            // [E-Var]
            ExprKind::Var(x) => {
                self.rule(Rule::EVar);
                Step::Done(Res::Val(env.lookup(x)))
            }
            // [E-Let]
            ExprKind::Let { name, value, body } => {
                let r = self.eval(value, env);
                let env = env.clone();
                self.then(r, move |m, v| {
                    m.rule(Rule::ELet);
                    Step::Eval(body, env.bind(name, v))
                })
            }
            // [E-Do]
            ExprKind::Do(es) => self.seq(es, env),
            // [E-If] / [E-If-Type]
            ExprKind::If { cond, then, els } => {
                let r = self.eval(cond, env);
                let env = env.clone();
                self.then(r, move |m, c| match c {
                    Value::Bool(true) => {
                        m.rule(Rule::EIf);
                        Step::Eval(then, env)
                    }
                    Value::Bool(false) => {
                        m.rule(Rule::EIf);
                        Step::Eval(els, env)
                    }
                    other => {
                        m.rule(Rule::EIfType);
                        Step::Done(m.fail(form_type_error("if", "bool", other.type_name()), n))
                    }
                })
            }
            // [E-Fn]
            ExprKind::Fn(l) => {
                self.rule(Rule::EFn);
                Step::Done(Res::Val(Value::Fn(Shared::new(Closure { env: env.clone(), code: Code::Lambda(l) }))))
            }
            // [E-Letrec]
            ExprKind::Letrec { funs, body } => {
                self.rule(Rule::ELetrec);
                Step::Eval(body, env.bind_group(funs))
            }
            // [E-Call]
            ExprKind::Call { func, args } => {
                let f = self.eval(func, env);
                let env = env.clone();
                self.then(f, move |m, f| m.all(args.iter().collect(), &env, Box::new(move |m, vs| m.apply(f, vs, n))))
            }
            // [E-Prim] and friends (prim.rs)
            ExprKind::Prim { op, args } => {
                let op = *op;
                self.all(args.iter().collect(), env, Box::new(move |m, vs| Step::Done(m.prim(op, vs, n))))
            }
            // [E-Emit]
            ExprKind::Emit(x) => {
                let r = self.eval(x, env);
                Step::Done(self.bind(r, |m, v| {
                    // R-Memory: the output log keeps a copy of v.
                    if !m.spend_size(&v) {
                        return Res::Exh(Resource::Memory);
                    }
                    m.rule(Rule::EEmit);
                    m.output.push(v.view(m.run));
                    Res::Val(Value::Unit)
                }))
            }
            // [E-Mark]
            ExprKind::Mark { tag, arg } => {
                let r = self.eval(arg, env);
                Step::Done(self.bind(r, move |m, v| {
                    m.rule(Rule::EMark);
                    m.emit(|run| Event::Mark { tag: tag.clone(), value: v.view(run) });
                    Res::Val(Value::Unit)
                }))
            }
            // [E-Effect]
            ExprKind::MakeEffect { label, arg } => {
                let r = self.eval(arg, env);
                Step::Done(self.bind(r, move |m, v| {
                    m.rule(Rule::EEffect);
                    Res::Val(Value::Effect(Shared::new((label.clone(), v))))
                }))
            }
            // [D-Perform]
            ExprKind::Perform { label, arg } => {
                let r = self.eval(arg, env);
                Step::Done(self.bind(r, move |m, v| m.perform(Value::Effect(Shared::new((label.clone(), v))), n)))
            }
            // [D-Perform] of an effect value, or [D-NotEffect]
            ExprKind::PerformValue(x) => {
                let r = self.eval(x, env);
                Step::Done(self.bind(r, move |m, v| match v {
                    Value::Effect(_) => m.perform(v, n),
                    other => m.not_effect("perform", &other, n),
                }))
            }
            // [B-Install] for handlers
            ExprKind::WithHandler(h) => {
                let b = self.install(BoundaryData::Handler { h, env: env.clone() }, None);
                let r = self.eval(&h.body, env);
                Step::Done(self.boundary(b, r))
            }
            // [B-Install] for interceptors and observers: the function first
            ExprKind::WithIntercept(x) => {
                let r = self.eval(&x.func, env);
                let env = env.clone();
                Step::Done(self.bind(r, move |m, f| {
                    let b = m.install(BoundaryData::Intercept { f, x, node: n }, None);
                    let r = m.eval(&x.body, &env);
                    m.boundary(b, r)
                }))
            }
            // [K-Resume] [K-ResumeThrow], and the escapes of [K-Transfer] [K-TransferThrow]
            ExprKind::Resume { mode, throw, k, arg } => {
                let (mode, throw) = (*mode, *throw);
                self.all(
                    vec![k, arg],
                    env,
                    Box::new(move |m, mut vs| {
                        let v = vs.pop().unwrap();
                        let kv = vs.pop().unwrap();
                        Step::Done(m.resume_form(mode, throw, kv, v, n))
                    }),
                )
            }
            // The escape of [K-Pass]
            ExprKind::Pass { k, effect } => {
                let ops: Vec<&'p Expr> = std::iter::once(&**k).chain(effect.as_deref()).collect();
                self.all(
                    ops,
                    env,
                    Box::new(move |m, mut vs| {
                        let eff = if vs.len() == 2 { vs.pop() } else { None };
                        let kv = vs.pop().unwrap();
                        Step::Done(m.pass_form(kv, eff, n))
                    }),
                )
            }
            ExprKind::Raise(x) => {
                let r = self.eval(x, env);
                Step::Done(self.bind(r, move |m, v| match v {
                    // [X-Raise]
                    Value::Error(_) => {
                        m.rule(Rule::XRaise);
                        m.emit(|run| Event::Raise { error: v.view(run), site: n });
                        Res::Err(v, n)
                    }
                    // [X-NotError]
                    other => {
                        m.rule(Rule::XNotError);
                        m.fail(form_type_error("raise", "an error value", other.type_name()), n)
                    }
                }))
            }
            ExprKind::Try(t) => {
                let r = self.eval(&t.body, env);
                Step::Done(self.try_catch(t, env.clone(), n, r))
            }
            // [K-NewCont] [K-Envelope]
            ExprKind::NewCont { func, envelope } => {
                let ops: Vec<&'p Expr> = std::iter::once(&**func).chain(envelope.as_deref()).collect();
                self.all(
                    ops,
                    env,
                    Box::new(move |m, mut vs| {
                        let k0 = if vs.len() == 2 { vs.pop() } else { None };
                        let f = vs.pop().unwrap();
                        Step::Done(m.new_cont(f, k0, n))
                    }),
                )
            }
        }
    }

    /// [E-Do]: all but the last for effect, the last in tail position (the
    /// rule applies, and counts, when the last is reached).
    fn seq(&mut self, es: &'p [Expr], env: &Env<'p>) -> Step<'p> {
        let (last, init) = es.split_last().expect("`do` is never empty");
        for (i, e) in init.iter().enumerate() {
            match self.eval(e, env) {
                Res::Val(_) => {}
                other => {
                    let env = env.clone();
                    let rest = &es[i + 1..];
                    return Step::Done(self.bind(other, move |m, _| {
                        let s = m.seq(rest, &env);
                        m.finish(s)
                    }));
                }
            }
        }
        self.rule(Rule::EDo);
        Step::Eval(last, env.clone())
    }

    /// Call `f` with `args` at node `n`: [E-Call], [E-Call-NotFn], [E-Call-Arity].
    pub fn apply(&mut self, f: Value<'p>, args: Vec<Value<'p>>, n: NodeId) -> Step<'p> {
        let c = match f {
            Value::Fn(c) => c,
            other => {
                self.rule(Rule::ECallNotFn);
                return Step::Done(self.fail_with(ErrorTag::NotAFunction, other, n));
            }
        };
        let l = c.lambda();
        if l.params.len() != args.len() {
            self.rule(Rule::ECallArity);
            return Step::Done(self.fail(errors::arity(l.params.len(), args.len()), n));
        }
        self.rule(Rule::ECall);
        let mut env = match c.code {
            Code::Lambda(_) => c.env.clone(),
            Code::Rec { group, .. } => c.env.bind_group(group),
        };
        for (p, v) in l.params.iter().zip(args) {
            env = env.bind(p, v);
        }
        Step::Eval(&l.body, env)
    }

    /// [D-Perform]: start dispatch `d` of `effect` at `site`.
    fn perform(&mut self, effect: Value<'p>, site: NodeId) -> Res<'p> {
        self.rule(Rule::DPerform);
        let d = self.new_dispatch();
        self.emit(|run| Event::Perform { dispatch: d, effect: effect.view(run), site });
        Res::Op(Box::new(Op { d, effect, site, k: Kont::identity(), crossed: Vec::new() }))
    }

    /// [D-NotEffect]
    pub fn not_effect(&mut self, form: &str, v: &Value<'p>, n: NodeId) -> Res<'p> {
        self.rule(Rule::DNotEffect);
        self.fail(form_type_error(form, "an effect", v.type_name()), n)
    }

    /// [B-Install]: a fresh scope for a new boundary (or a copy of `copy_of`).
    pub fn install(&mut self, kind: BoundaryData<'p>, copy_of: Option<kont_spec::ScopeId>) -> Boundary<'p> {
        self.rule(Rule::BInstall);
        let b = Boundary { scope: self.new_scope(), kind };
        self.emit(|_| Event::Install { scope: b.scope, kind: b.kind(), name: b.name(), copy_of });
        b
    }

    /// [X-Catch] and the finally rules.
    fn try_catch(&mut self, t: &'p TryExpr, env: Env<'p>, n: NodeId, r: Res<'p>) -> Res<'p> {
        match r {
            Res::Op(op) => self.take_along(Rule::POp, op, move |m, r| m.try_catch(t, env, n, r)),
            Res::Err(v, _) if t.catch.is_some() => {
                let (x, h) = t.catch.as_ref().unwrap();
                self.rule(Rule::XCatch);
                self.emit(|run| Event::Catch { error: v.view(run), site: n });
                let r = self.eval(h, &env.bind(x, v));
                self.finally(t, env, r)
            }
            r => self.finally(t, env, r),
        }
    }

    /// [X-Finally] [X-Finally-Raise] [X-Finally-Escape]: run the cleanup, then
    /// the original result, unless the cleanup itself raises or escapes.
    fn finally(&mut self, t: &'p TryExpr, env: Env<'p>, r: Res<'p>) -> Res<'p> {
        let Some(f) = &t.finally else { return r };
        let rule = match &r {
            Res::Op(_) => {
                let Res::Op(op) = r else { unreachable!() };
                return self.take_along(Rule::POp, op, move |m, r| m.finally(t, env, r));
            }
            Res::Exh(_) => return r,
            Res::Val(_) => Rule::XFinally,
            Res::Err(..) => Rule::XFinallyRaise,
            Res::Esc(_) => Rule::XFinallyEscape,
        };
        self.rule(rule);
        let cleanup = self.eval(f, &env);
        self.bind(cleanup, move |_, _| r)
    }
}
