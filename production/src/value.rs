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
    List(Rc<Vec<Value>>),
    /// Member `.0` of the function group whose environment is `.1`.
    Fn(u32, Rc<Env>),
    Cont(Rc<Continuation>),
    Cell(CellRef),
    Error(Rc<(Rc<String>, Value)>),
    Effect(Rc<(LabelId, Value)>),
    /// An opaque value owned by the host (the seam for foreign runtimes).
    Host(Rc<Box<dyn HostValue>>),
}

/// A cell handle: the run that owns the store, and the slot (its canonical id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellRef {
    pub run: u32,
    pub id: u32,
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

    pub fn error(tag: &str, payload: Value) -> Value {
        Value::Error(Rc::new((Rc::new(tag.to_string()), payload)))
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

    /// The observable view (SPEC.md §3.2).
    pub fn view(&self, code: &Code) -> ValueView {
        grow(|| match self {
            Value::Unit => ValueView::Unit,
            Value::Bool(b) => ValueView::Bool(*b),
            Value::Int(i) => ValueView::Int(*i),
            Value::Str(s) => ValueView::Str(s.to_string()),
            Value::List(vs) => ValueView::List(vs.iter().map(|v| v.view(code)).collect()),
            Value::Fn(i, env) => {
                let proto = code.groups[env.group as usize].protos[*i as usize];
                ValueView::Fn { name: code.protos[proto as usize].name.clone() }
            }
            Value::Cont(k) => ValueView::Cont { id: k.id },
            Value::Cell(c) => ValueView::Cell { id: c.id },
            Value::Error(e) => ValueView::error(e.0.as_str(), e.1.view(code)),
            Value::Effect(e) => ValueView::Effect { label: code.labels[e.0 as usize].clone(), payload: Box::new(e.1.view(code)) },
            Value::Host(h) => h.view(),
        })
    }

    /// A runtime value for a data view (error payloads built by the spec crate).
    pub fn from_data(v: &ValueView) -> Value {
        grow(|| match v {
            ValueView::Unit => Value::Unit,
            ValueView::Bool(b) => Value::Bool(*b),
            ValueView::Int(i) => Value::Int(*i),
            ValueView::Str(s) => Value::str(s),
            ValueView::List(vs) => Value::List(Rc::new(vs.iter().map(Value::from_data).collect())),
            ValueView::Error { tag, payload } => Value::error(tag, Value::from_data(payload)),
            _ => unreachable!("runtime error payloads are data or the offending value itself"),
        })
    }
}

// Deeply nested values (10^6 nested lists) must not overflow on drop: the
// last owner of a nested node swaps it for a shared empty placeholder and
// drops it on a grown stack.
impl Drop for Value {
    fn drop(&mut self) {
        match self {
            Value::List(r) if Rc::strong_count(r) == 1 && !r.is_empty() => {
                let r = std::mem::replace(r, EMPTY.with(|e| e.list.clone()));
                grow(move || drop(r));
            }
            Value::Error(r) if Rc::strong_count(r) == 1 => {
                let r = std::mem::replace(r, EMPTY.with(|e| e.error.clone()));
                grow(move || drop(r));
            }
            Value::Effect(r) if Rc::strong_count(r) == 1 => {
                let r = std::mem::replace(r, EMPTY.with(|e| e.effect.clone()));
                grow(move || drop(r));
            }
            Value::Fn(_, r) if Rc::strong_count(r) == 1 && !r.captures.is_empty() => {
                let r = std::mem::replace(r, EMPTY.with(|e| e.env.clone()));
                grow(move || drop(r));
            }
            _ => {}
        }
    }
}

struct Empty {
    list: Rc<Vec<Value>>,
    error: Rc<(Rc<String>, Value)>,
    effect: Rc<(LabelId, Value)>,
    env: Rc<Env>,
}

thread_local! {
    static EMPTY: Empty = Empty {
        list: Rc::new(Vec::new()),
        error: Rc::new((Rc::new(String::new()), Value::Unit)),
        effect: Rc::new((0, Value::Unit)),
        env: Rc::new(Env { group: 0, captures: Box::new([]) }),
    };
}
