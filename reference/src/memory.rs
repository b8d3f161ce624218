//! R-Memory (SPEC.md §9.2): what primitives, `emit` and the outcome spend.
//! The budget is charged before the value is built, so no program can make
//! the interpreter allocate much past it.

use kont_spec::{Resource, Rule};

use crate::interp::Interp;
use crate::res::Res;
use crate::value::Value;

/// The size of `v`'s observable value (SPEC.md §9.2): one per node plus the
/// bytes of every string and error tag in it; `None` once it passes `cap`.
/// Shared parts count every time they appear, as they print. The walk holds
/// at most `cap` pending nodes, so it is bounded whatever the sharing.
pub fn size(v: &Value<'_>, cap: u64) -> Option<u64> {
    let mut total: u64 = 1;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        match v {
            Value::Str(s) => total += s.len() as u64,
            Value::List(items) => {
                total += items.len() as u64;
                if total <= cap {
                    todo.extend(items.iter());
                }
            }
            Value::Error(e) => {
                total += e.0.len() as u64 + 1;
                todo.push(&e.1);
            }
            Value::Effect(e) => {
                total += 1;
                todo.push(&e.1);
            }
            _ => {}
        }
        if total > cap {
            return None;
        }
    }
    Some(total)
}

impl<'p> Interp<'p> {
    /// [R-Memory] Spend `n` units, or report that the budget is exhausted.
    pub fn spend(&mut self, n: u64) -> bool {
        if n > self.memory {
            self.rule(Rule::RMemory);
            return false;
        }
        self.memory -= n;
        self.memory_spent += n;
        true
    }

    /// Spend the size of `v` (`emit`, the outcome).
    pub fn spend_size(&mut self, v: &Value<'p>) -> bool {
        match size(v, self.memory) {
            Some(n) => self.spend(n),
            None => self.spend(u64::MAX),
        }
    }

    /// Spend `n`, then build the result; `exh memory` when it does not fit.
    pub fn build(&mut self, n: u64, make: impl FnOnce() -> Value<'p>) -> Res<'p> {
        if !self.spend(n) {
            return Res::Exh(Resource::Memory);
        }
        self.rule(Rule::EPrim);
        Res::Val(make())
    }
}
