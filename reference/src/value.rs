//! Runtime values of the reference interpreter (SPEC.md §3).

use std::cell::RefCell;
use std::rc::Rc;

use kont_spec::ast::{FunDef, Label, Lambda};
use kont_spec::deep::grow;
use kont_spec::ValueView;

use crate::continuation::ContObj;
use crate::env::Env;

#[derive(Clone)]
pub enum Value<'p> {
    Unit,
    Bool(bool),
    Int(i64),
    Str(Rc<str>),
    List(Shared<Vec<Value<'p>>>),
    Fn(Shared<Closure<'p>>),
    Cont(Rc<ContObj<'p>>),
    Cell(CellRef),
    Error(Shared<(String, Value<'p>)>),
    Effect(Shared<(Label, Value<'p>)>),
}

/// A shared node whose last owner drops it on a grown stack: values, closures
/// and environments nest as deep as the program makes them (a list built by
/// 10^6 nested `list` calls), and a plain recursive drop would overflow.
pub struct Shared<T> {
    rc: Option<Rc<T>>,
}

impl<T> Shared<T> {
    pub fn new(t: T) -> Shared<T> {
        Shared { rc: Some(Rc::new(t)) }
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.rc.as_deref().expect("a Shared is only empty while it drops")
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Shared<T> {
        Shared { rc: self.rc.clone() }
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        if let Some(rc) = self.rc.take() {
            if Rc::strong_count(&rc) == 1 {
                grow(move || drop(rc));
            }
        }
    }
}

/// A cell handle: the store slot plus the run that owns the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellRef {
    pub run: u64,
    pub id: u32,
}

/// A function value. `letrec` functions keep the group and the environment
/// outside it and rebuild the recursive environment on each call, so no
/// reference cycle is ever created (SPEC.md E-Letrec).
pub struct Closure<'p> {
    pub env: Env<'p>,
    pub code: Code<'p>,
}

pub enum Code<'p> {
    Lambda(&'p Lambda),
    Rec { group: &'p [FunDef], index: usize },
}

impl<'p> Closure<'p> {
    pub fn lambda(&self) -> &'p Lambda {
        match self.code {
            Code::Lambda(l) => l,
            Code::Rec { group, index } => &group[index].lambda,
        }
    }

    pub fn name(&self) -> Option<&'p str> {
        match self.code {
            Code::Lambda(_) => None,
            Code::Rec { group, index } => Some(&group[index].name),
        }
    }
}

impl<'p> Value<'p> {
    pub fn str(s: &str) -> Value<'p> {
        Value::Str(Rc::from(s))
    }

    pub fn error(tag: &str, payload: Value<'p>) -> Value<'p> {
        Value::Error(Shared::new((tag.to_string(), payload)))
    }

    /// Rebuild a runtime value from an observable one (for runtime-built
    /// error payloads). Only data views occur there.
    pub fn from_view(v: &ValueView) -> Value<'p> {
        grow(|| match v {
            ValueView::Unit => Value::Unit,
            ValueView::Bool(b) => Value::Bool(*b),
            ValueView::Int(i) => Value::Int(*i),
            ValueView::Str(s) => Value::str(s),
            ValueView::List(vs) => Value::List(Shared::new(vs.iter().map(Value::from_view).collect())),
            ValueView::Error { tag, payload } => Value::error(tag, Value::from_view(payload)),
            ValueView::Effect { label, payload } => {
                Value::Effect(Shared::new((label.clone(), Value::from_view(payload))))
            }
            ValueView::Fn { .. } | ValueView::Cont { .. } | ValueView::Cell { .. } | ValueView::Host { .. } => {
                unreachable!("runtime error payloads carry data, or the offending value itself")
            }
        })
    }

    /// The observable view (SPEC.md §3.2) in run `run`: a continuation or
    /// cell of another run shows as an earlier run's.
    pub fn view(&self, run: u64) -> ValueView {
        grow(|| match self {
            Value::Unit => ValueView::Unit,
            Value::Bool(b) => ValueView::Bool(*b),
            Value::Int(i) => ValueView::Int(*i),
            Value::Str(s) => ValueView::Str(s.to_string()),
            Value::List(vs) => ValueView::List(vs.iter().map(|v| v.view(run)).collect()),
            Value::Fn(c) => ValueView::Fn { name: c.name().map(str::to_string) },
            Value::Cont(k) => ValueView::Cont { id: k.id, earlier: k.run != run },
            Value::Cell(c) => ValueView::Cell { id: c.id, earlier: c.run != run },
            Value::Error(e) => ValueView::error(e.0.as_str(), e.1.view(run)),
            Value::Effect(e) => ValueView::Effect { label: e.0.clone(), payload: Box::new(e.1.view(run)) },
        })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Unit => "unit",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Fn(_) => "fn",
            Value::Cont(_) => "cont",
            Value::Cell(_) => "cell",
            Value::Error(_) => "error",
            Value::Effect(_) => "effect",
        }
    }
}

/// Cells live in the run's store, outside every continuation (SPEC.md §4.1).
#[derive(Default)]
pub struct Store<'p> {
    pub cells: Vec<RefCell<Value<'p>>>,
}
