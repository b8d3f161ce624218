//! Environments: persistent linked frames, looked up by name.

use kont_spec::ast::FunDef;

use crate::value::{Closure, Code, Shared, Value};

/// ρ in SPEC.md: a finite map from names to values, extended functionally.
#[derive(Clone, Default)]
pub struct Env<'p>(Option<Shared<Node<'p>>>);

enum Node<'p> {
    /// ρ[x ↦ v]
    One { name: &'p str, value: Value<'p>, next: Env<'p> },
    /// ρ[f ↦ ⟨ρ, group, f⟩ …] (E-Letrec) as one frame: the closure bound to
    /// `f` is built when `f` is looked up, and it is the same closure the
    /// rule binds. Building all of them eagerly would cost a call of a
    /// function from a large group (the prelude's) one allocation per function.
    Group { group: &'p [FunDef], outer: Env<'p> },
}

impl<'p> Env<'p> {
    pub fn empty() -> Env<'p> {
        Env(None)
    }

    /// ρ[x ↦ v]
    pub fn bind(&self, name: &'p str, value: Value<'p>) -> Env<'p> {
        Env(Some(Shared::new(Node::One { name, value, next: self.clone() })))
    }

    /// ρ[f ↦ ⟨ρ, group, f⟩ …] for every function `f` of a `letrec` group.
    pub fn bind_group(&self, group: &'p [FunDef]) -> Env<'p> {
        Env(Some(Shared::new(Node::Group { group, outer: self.clone() })))
    }

    /// ρ(x). The static check (SPEC.md §2.3) guarantees every variable is bound.
    pub fn lookup(&self, name: &str) -> Value<'p> {
        let mut cur = self;
        loop {
            let node = cur.0.as_deref().unwrap_or_else(|| panic!("unbound variable `{name}` passed the static check"));
            match node {
                Node::One { name: x, value, next } => {
                    if *x == name {
                        return value.clone();
                    }
                    cur = next;
                }
                Node::Group { group, outer } => {
                    // The last function of a name binds it, as binding them in order would.
                    if let Some(index) = group.iter().rposition(|f| f.name == name) {
                        let c = Closure { env: outer.clone(), code: Code::Rec { group, index } };
                        return Value::Fn(Shared::new(c));
                    }
                    cur = outer;
                }
            }
        }
    }
}
