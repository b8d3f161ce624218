//! Results of the big-step judgement `ρ ⊢ e ⇓ r` (SPEC.md §4.2) and the
//! meta-continuations that suspended effects carry.

use kont_spec::deep::grow;
use kont_spec::{ContId, DispatchId, NodeId, Resource};

use crate::boundary::Boundary;
use crate::continuation::ContBody;
use crate::interp::Interp;
use crate::value::Value;

/// r ::= val v | err v@n | op d ε κ β | esc | exh R
pub enum Res<'p> {
    Val(Value<'p>),
    /// An error value in flight, raised at a node.
    Err(Value<'p>, NodeId),
    /// An effect in flight towards its handler.
    Op(Box<Op<'p>>),
    /// An escape towards the nearest clause activation.
    Esc(Box<Esc<'p>>),
    Exh(Resource),
}

/// `op d ε κ β`: dispatch `d` of effect `ε`, performed at `site`; `k` resumes
/// the computation from the perform site; `crossed` lists the boundaries the
/// effect has passed, innermost first (the envelope its continuation will own).
pub struct Op<'p> {
    pub d: DispatchId,
    pub effect: Value<'p>,
    pub site: NodeId,
    pub k: Kont<'p>,
    pub crossed: Vec<Boundary<'p>>,
}

/// What a reactivated continuation receives: ↑v or ↯v@n.
pub enum Resumption<'p> {
    Resume(Value<'p>),
    Throw(Value<'p>, NodeId),
}

impl<'p> Resumption<'p> {
    pub fn into_res(self) -> Res<'p> {
        match self {
            Resumption::Resume(v) => Res::Val(v),
            Resumption::Throw(v, n) => Res::Err(v, n),
        }
    }
}

/// `transfer`, `transfer-throw` and `pass` leave their clause through an escape;
/// the continuation was consumed at the escape's site.
pub struct Esc<'p> {
    pub kind: EscKind<'p>,
    /// The node of the escaping form.
    pub site: NodeId,
}

pub enum EscKind<'p> {
    Transfer { k: ContId, body: ContBody<'p>, res: Resumption<'p> },
    Pass { k: ContId, body: ContBody<'p>, effect: Option<Value<'p>> },
}

impl EscKind<'_> {
    /// The form's name, for `outside-clause` messages.
    pub fn form(&self) -> &'static str {
        match self {
            EscKind::Transfer { res: Resumption::Resume(_), .. } => "transfer",
            EscKind::Transfer { res: Resumption::Throw(..), .. } => "transfer-throw",
            EscKind::Pass { .. } => "pass",
        }
    }
}

type KFn<'p> = dyn FnOnce(&mut Interp<'p>, Resumption<'p>) -> Res<'p> + 'p;

/// κ: resumption → result. One-shot by construction (`FnOnce`).
pub struct Kont<'p>(Option<Box<KFn<'p>>>);

impl<'p> Kont<'p> {
    /// The empty context: `↑v ↦ val v`, `↯v@n ↦ err v@n`.
    pub fn identity() -> Kont<'p> {
        Kont(None)
    }

    pub fn new(f: impl FnOnce(&mut Interp<'p>, Resumption<'p>) -> Res<'p> + 'p) -> Kont<'p> {
        Kont(Some(Box::new(f)))
    }

    /// κ(ρ̂)
    pub fn call(mut self, m: &mut Interp<'p>, r: Resumption<'p>) -> Res<'p> {
        match self.0.take() {
            None => r.into_res(),
            Some(f) => m.nested(move |m| f(m, r)),
        }
    }

    /// W ∘ κ — the context extended by a frame that sees every result
    /// (SPEC.md §4.3; `Interp::take_along`).
    pub fn wrap(self, w: impl FnOnce(&mut Interp<'p>, Res<'p>) -> Res<'p> + 'p) -> Kont<'p> {
        Kont::new(move |m, r| {
            let res = self.call(m, r);
            w(m, res)
        })
    }
}

impl Drop for Kont<'_> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            grow(move || drop(f));
        }
    }
}

/// What evaluating one node yields: a result, or the expression in tail
/// position to evaluate next (proper tail calls: loops run in constant stack).
pub enum Step<'p> {
    Done(Res<'p>),
    Eval(&'p kont_spec::Expr, crate::env::Env<'p>),
}
