//! R-Memory (SPEC.md §9.2): what primitives, `emit` and the outcome spend,
//! charged before the value is built, exactly as the reference does.

use kont_spec::{Resource, Rule};

use crate::machine::{Exit, Flow, Machine};
use crate::value::Value;

/// The size of `v`'s observable value (SPEC.md §9.2): one per node plus the
/// bytes of every string and error tag in it; `None` once it passes `cap`.
/// Shared parts count every time they appear, as they print. The walk holds
/// at most `cap` pending nodes, so it is bounded whatever the sharing.
pub fn size(v: &Value, cap: u64) -> Option<u64> {
    // A value without parts (the common `emit`) needs no work list.
    if !matches!(v, Value::List(_) | Value::Error(_) | Value::Effect(_)) {
        let n = 1 + if let Value::Str(s) = v { s.len() as u64 } else { 0 };
        return (n <= cap).then_some(n);
    }
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
                total += e.tag.len() as u64 + 1;
                todo.push(&e.payload);
            }
            Value::Effect(e) => {
                total += 1;
                todo.push(&e.payload);
            }
            _ => {}
        }
        if total > cap {
            return None;
        }
    }
    Some(total)
}

impl Machine<'_, '_> {
    /// [R-Memory] Spend `n` units, or end the run.
    pub fn spend(&mut self, n: u64) -> Flow {
        if n > self.memory {
            self.rule(Rule::RMemory);
            return Flow::Break(Exit::Exhausted(Resource::Memory));
        }
        self.memory -= n;
        Flow::Continue(())
    }

    /// Spend the size of `v` (`emit`, the outcome).
    pub fn spend_size(&mut self, v: &Value) -> Flow {
        let n = size(v, self.memory).unwrap_or(u64::MAX);
        self.spend(n)
    }

    /// Memory spent so far.
    pub fn memory_spent(&self) -> u64 {
        self.memory_limit - self.memory
    }
}
