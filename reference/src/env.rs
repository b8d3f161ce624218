//! Environments: persistent linked frames, looked up by name.

use crate::value::{Shared, Value};

/// ρ in SPEC.md: a finite map from names to values, extended functionally.
#[derive(Clone, Default)]
pub struct Env<'p>(Option<Shared<Node<'p>>>);

struct Node<'p> {
    name: &'p str,
    value: Value<'p>,
    next: Env<'p>,
}

impl<'p> Env<'p> {
    pub fn empty() -> Env<'p> {
        Env(None)
    }

    /// ρ[x ↦ v]
    pub fn bind(&self, name: &'p str, value: Value<'p>) -> Env<'p> {
        Env(Some(Shared::new(Node { name, value, next: self.clone() })))
    }

    /// ρ(x). The static check (SPEC.md §2.3) guarantees every variable is bound.
    pub fn lookup(&self, name: &str) -> &Value<'p> {
        let mut cur = self;
        loop {
            let node = cur.0.as_deref().unwrap_or_else(|| panic!("unbound variable `{name}` passed the static check"));
            if node.name == name {
                return &node.value;
            }
            cur = &node.next;
        }
    }
}
