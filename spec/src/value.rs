//! Observable values (SPEC.md §3): the engine-independent view of a runtime
//! value. Outcomes, the output log and trace payloads are made of these, so two
//! engines agree exactly when their views are equal.
//!
//! Functions show only their name, continuations and cells their canonical id
//! (creation order in the run): never an address or an engine-internal index.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::ast::Label;
use crate::deep::grow;
use crate::syntax::{quote_str, Cursor, ParseError, Tok};

///
/// Values nest as deep as a program makes them (a list 1,000,000 levels
/// deep), so every walk over one is depth-safe: `Clone`, `PartialEq`, `Hash`,
/// `Debug`, `Display`, serde and `Drop` are written out below (rather than
/// derived) to run each level on a grown stack ([`grow`]).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueView {
    Unit,
    Bool(bool),
    Int(i64),
    Str(String),
    List(#[serde(with = "deep_list")] Vec<ValueView>),
    /// A closure; `letrec` functions carry their name.
    Fn {
        name: Option<String>,
    },
    /// A continuation, by canonical id; `earlier` when it belongs to an
    /// earlier run than the one that shows it (SPEC.md §3.2: `#earlier-kN`).
    Cont {
        id: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        earlier: bool,
    },
    /// A cell reference, by canonical id; `earlier` as for continuations.
    Cell {
        id: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        earlier: bool,
    },
    Error {
        tag: String,
        #[serde(with = "deep_box")]
        payload: Box<ValueView>,
    },
    Effect {
        label: Label,
        #[serde(with = "deep_box")]
        payload: Box<ValueView>,
    },
    /// A host value (a Python object) by its printed form (SPEC.md §14.5).
    Host {
        repr: String,
    },
}

/// Why `=` could not compare two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CannotCompareFunctions;

impl ValueView {
    pub fn str(s: impl Into<String>) -> ValueView {
        ValueView::Str(s.into())
    }

    pub fn error(tag: impl Into<String>, payload: ValueView) -> ValueView {
        ValueView::Error { tag: tag.into(), payload: Box::new(payload) }
    }

    pub fn effect(label: impl Into<String>, payload: ValueView) -> ValueView {
        ValueView::Effect { label: Label(label.into()), payload: Box::new(payload) }
    }

    /// The type name `type-of` returns (rule E-Prim).
    pub fn type_name(&self) -> &'static str {
        match self {
            ValueView::Unit => "unit",
            ValueView::Bool(_) => "bool",
            ValueView::Int(_) => "int",
            ValueView::Str(_) => "str",
            ValueView::List(_) => "list",
            ValueView::Fn { .. } => "fn",
            ValueView::Cont { .. } => "cont",
            ValueView::Cell { .. } => "cell",
            ValueView::Error { .. } => "error",
            ValueView::Effect { .. } => "effect",
            ValueView::Host { .. } => "host",
        }
    }

    /// The error tag, when this is an error value.
    pub fn error_tag(&self) -> Option<&str> {
        match self {
            ValueView::Error { tag, .. } => Some(tag),
            _ => None,
        }
    }

    /// Structural equality of `=` (SPEC.md §4.3): values of different types are
    /// unequal; lists compare by length, then element-wise from the left, stopping
    /// at the first difference; continuations and cells compare by identity;
    /// reaching a function is an error.
    pub fn equal(&self, other: &ValueView) -> Result<bool, CannotCompareFunctions> {
        use ValueView::*;
        grow(|| match (self, other) {
            (Fn { .. }, _) | (_, Fn { .. }) => Err(CannotCompareFunctions),
            (Unit, Unit) => Ok(true),
            (Bool(a), Bool(b)) => Ok(a == b),
            (Int(a), Int(b)) => Ok(a == b),
            (Str(a), Str(b)) => Ok(a == b),
            (Cont { id: a, earlier: x }, Cont { id: b, earlier: y })
            | (Cell { id: a, earlier: x }, Cell { id: b, earlier: y }) => Ok(a == b && x == y),
            (Host { repr: a }, Host { repr: b }) => Ok(a == b),
            (List(a), List(b)) => {
                if a.len() != b.len() {
                    return Ok(false);
                }
                for (x, y) in a.iter().zip(b) {
                    if !x.equal(y)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (Error { tag: t1, payload: p1 }, Error { tag: t2, payload: p2 }) => {
                if t1 != t2 {
                    return Ok(false);
                }
                p1.equal(p2)
            }
            (Effect { label: l1, payload: p1 }, Effect { label: l2, payload: p2 }) => {
                if l1 != l2 {
                    return Ok(false);
                }
                p1.equal(p2)
            }
            _ => Ok(false),
        })
    }

    /// What `show` returns: the display form, except a string shows as itself.
    pub fn show(&self) -> String {
        match self {
            ValueView::Str(s) => s.clone(),
            v => v.to_string(),
        }
    }

    /// Parse the display form (used for expected values in scripts).
    pub fn parse(cur: &mut Cursor<'_>) -> Result<ValueView, ParseError> {
        grow(|| Self::parse_inner(cur))
    }

    fn parse_inner(cur: &mut Cursor<'_>) -> Result<ValueView, ParseError> {
        let pos = cur.pos();
        let t = cur.bump()?;
        match t.tok {
            Tok::Int(i) => Ok(ValueView::Int(i)),
            Tok::Str(s) => Ok(ValueView::Str(s)),
            Tok::RParen => Err(ParseError::new(pos, "unexpected `)` (expected a value)")),
            Tok::Atom(a) => match a.as_str() {
                "unit" => Ok(ValueView::Unit),
                "true" => Ok(ValueView::Bool(true)),
                "false" => Ok(ValueView::Bool(false)),
                "#fn" => Ok(ValueView::Fn { name: None }),
                _ => {
                    if let Some(n) = a.strip_prefix("#fn:") {
                        return Ok(ValueView::Fn { name: Some(n.to_string()) });
                    }
                    let (earlier, rest) = match a.strip_prefix("#earlier-") {
                        Some(rest) => (true, rest),
                        None => (false, a.strip_prefix('#').unwrap_or("")),
                    };
                    let id = |p: &str| rest.strip_prefix(p).and_then(|d| d.parse::<u32>().ok());
                    if let Some(id) = id("k") {
                        return Ok(ValueView::Cont { id, earlier });
                    }
                    if let Some(id) = id("cell") {
                        return Ok(ValueView::Cell { id, earlier });
                    }
                    Err(ParseError::new(pos, format!("`{a}` is not a value")))
                }
            },
            Tok::LParen => {
                let (head, _) = cur.atom("`list`, `error` or `effect`")?;
                match head.as_str() {
                    "list" => {
                        let mut vs = Vec::new();
                        while !cur.at_rparen() {
                            vs.push(ValueView::parse(cur)?);
                        }
                        cur.bump()?;
                        Ok(ValueView::List(vs))
                    }
                    "error" => {
                        let tag = cur.string("the error tag")?;
                        let payload = ValueView::parse(cur)?;
                        cur.expect_rparen("`(error \"tag\" payload)`")?;
                        Ok(ValueView::error(tag, payload))
                    }
                    "effect" => {
                        let label = cur.label()?;
                        let payload = ValueView::parse(cur)?;
                        cur.expect_rparen("`(effect Label payload)`")?;
                        Ok(ValueView::Effect { label, payload: Box::new(payload) })
                    }
                    _ => Err(ParseError::new(pos, format!("`({head} ...)` is not a value form"))),
                }
            }
        }
    }
}

impl fmt::Display for ValueView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        grow(|| match self {
            ValueView::Unit => f.write_str("unit"),
            ValueView::Bool(b) => write!(f, "{b}"),
            ValueView::Int(i) => write!(f, "{i}"),
            ValueView::Str(s) => f.write_str(&quote_str(s)),
            ValueView::List(vs) => {
                f.write_str("(list")?;
                for v in vs {
                    write!(f, " {v}")?;
                }
                f.write_str(")")
            }
            ValueView::Fn { name: None } => f.write_str("#fn"),
            ValueView::Fn { name: Some(n) } => write!(f, "#fn:{n}"),
            ValueView::Cont { id, earlier } => write!(f, "#{}k{id}", if *earlier { "earlier-" } else { "" }),
            ValueView::Cell { id, earlier } => write!(f, "#{}cell{id}", if *earlier { "earlier-" } else { "" }),
            ValueView::Error { tag, payload } => write!(f, "(error {} {payload})", quote_str(tag)),
            ValueView::Effect { label, payload } => write!(f, "(effect {label} {payload})"),
            ValueView::Host { repr } => write!(f, "#<{repr}>"),
        })
    }
}

impl Drop for ValueView {
    fn drop(&mut self) {
        match self {
            ValueView::List(vs) if !vs.is_empty() => {
                let vs = std::mem::take(vs);
                grow(move || drop(vs));
            }
            ValueView::Error { payload, .. } | ValueView::Effect { payload, .. }
                if !matches!(**payload, ValueView::Unit) =>
            {
                let p = std::mem::replace(&mut **payload, ValueView::Unit);
                grow(move || drop(p));
            }
            _ => {}
        }
    }
}

impl Clone for ValueView {
    fn clone(&self) -> ValueView {
        grow(|| match self {
            ValueView::Unit => ValueView::Unit,
            ValueView::Bool(b) => ValueView::Bool(*b),
            ValueView::Int(i) => ValueView::Int(*i),
            ValueView::Str(s) => ValueView::Str(s.clone()),
            ValueView::List(vs) => ValueView::List(vs.clone()),
            ValueView::Fn { name } => ValueView::Fn { name: name.clone() },
            ValueView::Cont { id, earlier } => ValueView::Cont { id: *id, earlier: *earlier },
            ValueView::Cell { id, earlier } => ValueView::Cell { id: *id, earlier: *earlier },
            ValueView::Error { tag, payload } => ValueView::Error { tag: tag.clone(), payload: payload.clone() },
            ValueView::Effect { label, payload } => {
                ValueView::Effect { label: label.clone(), payload: payload.clone() }
            }
            ValueView::Host { repr } => ValueView::Host { repr: repr.clone() },
        })
    }
}

/// Structural identity (what the oracle and assertions compare), not `=`:
/// functions are equal when their names are.
impl PartialEq for ValueView {
    fn eq(&self, other: &ValueView) -> bool {
        use ValueView::*;
        grow(|| match (self, other) {
            (Unit, Unit) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Str(a), Str(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Fn { name: a }, Fn { name: b }) => a == b,
            (Cont { id: a, earlier: x }, Cont { id: b, earlier: y })
            | (Cell { id: a, earlier: x }, Cell { id: b, earlier: y }) => a == b && x == y,
            (Error { tag: t1, payload: p1 }, Error { tag: t2, payload: p2 }) => t1 == t2 && p1 == p2,
            (Effect { label: l1, payload: p1 }, Effect { label: l2, payload: p2 }) => l1 == l2 && p1 == p2,
            (Host { repr: a }, Host { repr: b }) => a == b,
            _ => false,
        })
    }
}

impl Eq for ValueView {}

impl Hash for ValueView {
    fn hash<H: Hasher>(&self, h: &mut H) {
        grow(|| {
            std::mem::discriminant(self).hash(h);
            match self {
                ValueView::Unit => {}
                ValueView::Bool(b) => b.hash(h),
                ValueView::Int(i) => i.hash(h),
                ValueView::Str(s) => s.hash(h),
                ValueView::List(vs) => vs.hash(h),
                ValueView::Fn { name } => name.hash(h),
                ValueView::Cont { id, earlier } | ValueView::Cell { id, earlier } => {
                    id.hash(h);
                    earlier.hash(h);
                }
                ValueView::Error { tag, payload } => {
                    tag.hash(h);
                    payload.hash(h);
                }
                ValueView::Effect { label, payload } => {
                    label.hash(h);
                    payload.hash(h);
                }
                ValueView::Host { repr } => repr.hash(h),
            }
        })
    }
}

/// The derived form (`List([Int(1)])`). `{:?}` is depth-safe; `{:#?}` indents
/// through one adapter per level and is not meant for deep values.
impl fmt::Debug for ValueView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        grow(|| match self {
            ValueView::Unit => f.write_str("Unit"),
            ValueView::Bool(b) => f.debug_tuple("Bool").field(b).finish(),
            ValueView::Int(i) => f.debug_tuple("Int").field(i).finish(),
            ValueView::Str(s) => f.debug_tuple("Str").field(s).finish(),
            ValueView::List(vs) => f.debug_tuple("List").field(vs).finish(),
            ValueView::Fn { name } => f.debug_struct("Fn").field("name", name).finish(),
            ValueView::Cont { id, earlier } => {
                f.debug_struct("Cont").field("id", id).field("earlier", earlier).finish()
            }
            ValueView::Cell { id, earlier } => {
                f.debug_struct("Cell").field("id", id).field("earlier", earlier).finish()
            }
            ValueView::Error { tag, payload } => {
                f.debug_struct("Error").field("tag", tag).field("payload", payload).finish()
            }
            ValueView::Effect { label, payload } => {
                f.debug_struct("Effect").field("label", label).field("payload", payload).finish()
            }
            ValueView::Host { repr } => f.debug_struct("Host").field("repr", repr).finish(),
        })
    }
}

/// serde for the nested fields: each level (de)serializes on a grown stack.
/// (A deserializer must also lift its own limit: `serde_json`'s
/// `disable_recursion_limit`, as `Program::from_json` does.)
mod deep_list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::ValueView;
    use crate::deep::grow;

    pub fn serialize<S: Serializer>(vs: &[ValueView], s: S) -> Result<S::Ok, S::Error> {
        grow(|| vs.serialize(s))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ValueView>, D::Error> {
        grow(|| Vec::deserialize(d))
    }
}

mod deep_box {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::ValueView;
    use crate::deep::grow;

    #[allow(clippy::borrowed_box)]
    pub fn serialize<S: Serializer>(v: &Box<ValueView>, s: S) -> Result<S::Ok, S::Error> {
        grow(|| v.serialize(s))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Box<ValueView>, D::Error> {
        grow(|| Box::deserialize(d))
    }
}
