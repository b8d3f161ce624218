//! Runtime values of the VM (16 bytes each).

use std::rc::Rc;

use kont_spec::deep::grow;
use kont_spec::ValueView;

use crate::code::{Code, LabelId};
use crate::continuation::Continuation;
use crate::host::HostValue;

#[derive(Clone)]
pub enum Value {
    Unit,
    Bool(bool),
    Int(i64),
    Str(Rc<String>),
    List(Rc<Items>),
    /// Member `.0` of the function group whose environment is `.1`.
    Fn(u32, Rc<Env>),
    Cont(Rc<Continuation>),
    Cell(CellRef),
    Error(Rc<ErrorVal>),
    Effect(Rc<EffectVal>),
    /// An opaque value owned by the host (the seam for foreign runtimes).
    Host(Rc<Box<dyn HostValue>>),
}

/// A cell handle: the run that owns the store, and the slot (its canonical id).
/// The 64-bit run is kept as two halves so the handle is 4-aligned and fits
/// beside `Value`'s tag (values stay 16 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellRef {
    run_lo: u32,
    run_hi: u32,
    pub id: u32,
}

impl CellRef {
    pub fn new(run: u64, id: u32) -> CellRef {
        CellRef { run_lo: run as u32, run_hi: (run >> 32) as u32, id }
    }

    /// The run that owns the store.
    pub fn run(&self) -> u64 {
        (u64::from(self.run_hi) << 32) | u64::from(self.run_lo)
    }
}

/// A closure environment shared by the functions of one group.
pub struct Env {
    pub group: u32,
    pub captures: Box<[Value]>,
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::new(s.to_string()))
    }

    /// A string every value of this thread shares (a handle's kind): one
    /// allocation, not one per value.
    pub fn shared_str(s: &str) -> Value {
        Value::Str(interned(s))
    }

    /// An error value; its tag (one of the runtime's few) is shared.
    pub fn error(tag: &str, payload: Value) -> Value {
        Value::Error(Rc::new(ErrorVal { tag: interned(tag), payload }))
    }

    pub fn effect(label: LabelId, payload: Value) -> Value {
        Value::Effect(Rc::new(EffectVal { label, payload }))
    }

    /// The effect value of a dispatch's `label` and `payload`: a host
    /// effect is its payload itself.
    pub fn effect_of(label: LabelId, payload: &Value) -> Value {
        if label == crate::host::HOST_LABEL {
            return payload.clone();
        }
        Value::effect(label, payload.clone())
    }

    /// The label and payload to dispatch when this value is performed, if it is an effect.
    pub fn effect_parts(&self) -> Option<(LabelId, Value)> {
        match self {
            Value::Effect(e) => Some((e.label, e.payload.clone())),
            Value::Host(h) if h.is_effect() => Some((crate::host::HOST_LABEL, self.clone())),
            _ => None,
        }
    }

    /// Whether the value can be raised by the throw forms: a kont error, or
    /// a host value that is one (a Python exception).
    pub fn is_error(&self) -> bool {
        match self {
            Value::Error(_) => true,
            Value::Host(h) => h.is_error(),
            _ => false,
        }
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(Items(items)))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Unit => "unit",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Fn(..) => "fn",
            Value::Cont(_) => "cont",
            Value::Cell(_) => "cell",
            Value::Error(_) => "error",
            Value::Effect(_) => "effect",
            Value::Host(h) => h.type_name(),
        }
    }

    /// The observable view (SPEC.md §3.2) in run `run`: a continuation or
    /// cell of another run shows as an earlier run's.
    pub fn view(&self, code: &Code, run: u64) -> ValueView {
        grow(|| match self {
            Value::Unit => ValueView::Unit,
            Value::Bool(b) => ValueView::Bool(*b),
            Value::Int(i) => ValueView::Int(*i),
            Value::Str(s) => ValueView::Str(s.to_string()),
            Value::List(vs) => ValueView::List(vs.iter().map(|v| v.view(code, run)).collect()),
            Value::Fn(i, env) => {
                let proto = code.groups[env.group as usize].protos[*i as usize];
                ValueView::Fn { name: code.protos[proto as usize].name.clone() }
            }
            Value::Cont(k) => ValueView::Cont { id: k.id, earlier: k.run != run },
            Value::Cell(c) => ValueView::Cell { id: c.id, earlier: c.run() != run },
            Value::Error(e) => ValueView::error(e.tag.as_str(), e.payload.view(code, run)),
            Value::Effect(e) => ValueView::Effect {
                label: code.labels[e.label as usize].clone(),
                payload: Box::new(e.payload.view(code, run)),
            },
            Value::Host(h) => h.view(run),
        })
    }

    /// A runtime value for a data view (error payloads built by the spec crate).
    pub fn from_data(v: &ValueView) -> Value {
        grow(|| match v {
            ValueView::Unit => Value::Unit,
            ValueView::Bool(b) => Value::Bool(*b),
            ValueView::Int(i) => Value::Int(*i),
            ValueView::Str(s) => Value::str(s),
            ValueView::List(vs) => Value::list(vs.iter().map(Value::from_data).collect()),
            ValueView::Error { tag, payload } => Value::error(tag, Value::from_data(payload)),
            _ => unreachable!("runtime error payloads are data or the offending value itself"),
        })
    }
}

/// How many distinct strings `interned` keeps (the runtime's error tags and
/// handle kinds are a few dozen); past it, each call allocates its own.
const INTERNED: usize = 64;

thread_local! {
    static STRINGS: std::cell::RefCell<Vec<Rc<String>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `s` as a string shared by the thread's values. A scheduler that cancels
/// 100,000 tasks builds 100,000 `(error "cancelled" (list "task" id))`
/// values: without sharing, their two constant strings were four of the
/// seven allocations of each.
fn interned(s: &str) -> Rc<String> {
    STRINGS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(shared) = cache.iter().find(|x| x.as_str() == s) {
            return shared.clone();
        }
        let fresh = Rc::new(s.to_string());
        if cache.len() < INTERNED {
            cache.push(fresh.clone());
        }
        fresh
    })
}

/// A list's items. Values nest as deep as programs make them (a list built by
/// 10^6 nested `list` calls): every node that holds values drops them on a
/// grown stack, so dropping never overflows.
pub struct Items(pub Vec<Value>);

impl std::ops::Deref for Items {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let v = std::mem::take(&mut self.0);
            grow(move || drop(v));
        }
    }
}

/// An error value's contents.
pub struct ErrorVal {
    pub tag: Rc<String>,
    pub payload: Value,
}

/// An effect value's contents.
pub struct EffectVal {
    pub label: LabelId,
    pub payload: Value,
}

macro_rules! drop_payload_deep {
    ($t:ty) => {
        impl Drop for $t {
            fn drop(&mut self) {
                if !matches!(self.payload, Value::Unit | Value::Bool(_) | Value::Int(_)) {
                    let p = std::mem::replace(&mut self.payload, Value::Unit);
                    grow(move || drop(p));
                }
            }
        }
    };
}
drop_payload_deep!(ErrorVal);
drop_payload_deep!(EffectVal);

impl Drop for Env {
    fn drop(&mut self) {
        if !self.captures.is_empty() {
            let c = std::mem::take(&mut self.captures);
            grow(move || drop(c));
        }
    }
}

// Values are copied on every push and pop: keep them two words.
const _: [(); 16] = [(); std::mem::size_of::<Value>()];

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(v: &Value) -> &Rc<String> {
        match v {
            Value::Error(e) => &e.tag,
            _ => unreachable!("an error"),
        }
    }

    #[test]
    fn error_tags_and_handle_kinds_are_shared_up_to_a_bound() {
        let (a, b) = (Value::error("cancelled", Value::Int(1)), Value::error("cancelled", Value::Int(2)));
        assert!(Rc::ptr_eq(tag(&a), tag(&b)));
        assert_eq!(tag(&a).as_str(), "cancelled");
        let (Value::Str(x), Value::Str(y)) = (Value::shared_str("task"), Value::shared_str("task")) else {
            unreachable!("strings")
        };
        assert!(Rc::ptr_eq(&x, &y));
        // Past the bound every new string is its own, and still right.
        for i in 0..2 * INTERNED {
            let _ = Value::shared_str(&format!("s{i}"));
        }
        assert!(STRINGS.with(|c| c.borrow().len()) <= INTERNED);
        let (Value::Str(x), Value::Str(y)) = (Value::shared_str("late"), Value::shared_str("late")) else {
            unreachable!("strings")
        };
        assert!(!Rc::ptr_eq(&x, &y) && x.as_str() == "late" && y.as_str() == "late");
    }
}
