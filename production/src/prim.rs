//! δ: the primitives (SPEC.md §5.1), on the machine's values.

use std::rc::Rc;

use kont_spec::ast::Prim;
use kont_spec::deep::grow;
use kont_spec::errors::{self, equality_on_functions, type_error};
use kont_spec::{ErrorTag, NodeId, Rule};

use crate::machine::{Flow, Machine};
use crate::memory::size;
use crate::value::Value;

/// `=` (SPEC.md §3.3) in run `run`; `Err(())` when the comparison reaches a
/// function. Identities compare as they print: by id, and by whether they
/// belong to an earlier run.
pub fn equal(a: &Value, b: &Value, run: u64) -> Result<bool, ()> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(x == y);
    }
    grow(|| match (a, b) {
        (Value::Fn(..), _) | (_, Value::Fn(..)) => Err(()),
        (Value::Unit, Value::Unit) => Ok(true),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::Int(x), Value::Int(y)) => Ok(x == y),
        (Value::Str(x), Value::Str(y)) => Ok(x == y),
        (Value::Cont(x), Value::Cont(y)) => Ok(x.id == y.id && (x.run == run) == (y.run == run)),
        (Value::Cell(x), Value::Cell(y)) => Ok(x.id == y.id && (x.run() == run) == (y.run() == run)),
        (Value::List(x), Value::List(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (p, q) in x.iter().zip(y.iter()) {
                if !equal(p, q, run)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Value::Error(x), Value::Error(y)) => {
            if x.tag != y.tag {
                return Ok(false);
            }
            equal(&x.payload, &y.payload, run)
        }
        (Value::Effect(x), Value::Effect(y)) => {
            if x.label != y.label {
                return Ok(false);
            }
            equal(&x.payload, &y.payload, run)
        }
        _ => Ok(false),
    })
}

/// The comparison primitives (`=` `!=` `<` `<=` `>` `>=`): the result, or the
/// `type-error` to raise (E-Prim-Type).
pub fn compare(op: Prim, a: &Value, b: &Value, run: u64) -> Result<bool, kont_spec::ValueView> {
    let name = op.name();
    if matches!(op, Prim::Eq | Prim::Ne) {
        return match equal(a, b, run) {
            Ok(eq) => Ok(eq == (op == Prim::Eq)),
            Err(()) => Err(equality_on_functions(name)),
        };
    }
    let ord = match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Int(_), _) => return Err(type_error(name, 2, "int", b.type_name())),
        (Value::Str(_), _) => return Err(type_error(name, 2, "str", b.type_name())),
        _ => return Err(type_error(name, 1, "int or str", a.type_name())),
    };
    Ok(match op {
        Prim::Lt => ord.is_lt(),
        Prim::Le => ord.is_le(),
        Prim::Gt => ord.is_gt(),
        _ => ord.is_ge(),
    })
}

impl Machine<'_, '_> {
    /// Apply `op` to its `argc` arguments on top of the stack.
    pub fn prim(&mut self, op: Prim, argc: u32, n: NodeId) -> Flow {
        let at = self.stack.len() - argc as usize;
        let name = op.name();
        macro_rules! arg {
            ($i:expr) => {
                &self.stack[at + $i]
            };
        }
        macro_rules! bad {
            ($i:expr, $want:expr) => {{
                self.rule(Rule::EPrimType);
                let got = arg!($i).type_name();
                return self.fail(type_error(name, $i + 1, $want, got), n);
            }};
        }
        macro_rules! int {
            ($i:expr) => {
                match arg!($i) {
                    Value::Int(x) => *x,
                    _ => bad!($i, "int"),
                }
            };
        }
        macro_rules! boolean {
            ($i:expr) => {
                match arg!($i) {
                    Value::Bool(x) => *x,
                    _ => bad!($i, "bool"),
                }
            };
        }
        macro_rules! string {
            ($i:expr) => {
                match arg!($i) {
                    Value::Str(x) => x.clone(),
                    _ => bad!($i, "str"),
                }
            };
        }
        macro_rules! list {
            ($i:expr) => {
                match arg!($i) {
                    Value::List(x) => x.clone(),
                    _ => bad!($i, "list"),
                }
            };
        }
        let v = match op {
            Prim::Add | Prim::Sub | Prim::Mul => {
                let (a, b) = (int!(0), int!(1));
                let r = match op {
                    Prim::Add => a.checked_add(b),
                    Prim::Sub => a.checked_sub(b),
                    _ => a.checked_mul(b),
                };
                match r {
                    Some(x) => Value::Int(x),
                    None => {
                        self.rule(Rule::EOverflow);
                        return self.fail(errors::overflow(name, a, b), n);
                    }
                }
            }
            Prim::Div | Prim::Mod => {
                let (a, b) = (int!(0), int!(1));
                if b == 0 {
                    self.rule(Rule::EDivZero);
                    return self.fail(errors::division_by_zero(name, a), n);
                }
                // Only `i64::MIN / -1` overflows; its remainder is 0.
                match if op == Prim::Div { a.checked_div(b) } else { Some(a.wrapping_rem(b)) } {
                    Some(x) => Value::Int(x),
                    None => {
                        self.rule(Rule::EOverflow);
                        return self.fail(errors::overflow(name, a, b), n);
                    }
                }
            }
            Prim::Eq | Prim::Ne | Prim::Lt | Prim::Le | Prim::Gt | Prim::Ge => {
                match compare(op, arg!(0), arg!(1), self.run) {
                    Ok(b) => Value::Bool(b),
                    Err(e) => {
                        self.rule(Rule::EPrimType);
                        return self.fail(e, n);
                    }
                }
            }
            Prim::Not => Value::Bool(!boolean!(0)),
            Prim::And | Prim::Or => {
                let (a, b) = (boolean!(0), boolean!(1));
                Value::Bool(if op == Prim::And { a && b } else { a || b })
            }
            Prim::Concat => {
                let (a, b) = (string!(0), string!(1));
                self.spend((a.len() + b.len()) as u64)?;
                Value::Str(Rc::new(format!("{a}{b}")))
            }
            Prim::StrLen => Value::Int(string!(0).chars().count() as i64),
            Prim::Show => {
                // Its text is at least as long as the value's size: a value
                // too big to show is never copied out.
                if size(arg!(0), self.memory).is_none() {
                    return self.spend(u64::MAX);
                }
                let s = self.view(arg!(0)).show();
                self.spend(s.len() as u64)?;
                Value::Str(Rc::new(s))
            }
            Prim::List => {
                self.spend(argc as u64)?;
                Value::list(self.stack[at..].to_vec())
            }
            Prim::Cons => {
                let tl = list!(1);
                self.spend(tl.len() as u64 + 1)?;
                let mut v = Vec::with_capacity(tl.len() + 1);
                v.push(arg!(0).clone());
                v.extend(tl.iter().cloned());
                Value::list(v)
            }
            Prim::Head | Prim::Tail => {
                let l = list!(0);
                if l.is_empty() {
                    self.rule(Rule::EIndex);
                    return self.fail(errors::empty_list(name), n);
                }
                if op == Prim::Head {
                    l[0].clone()
                } else {
                    self.spend(l.len() as u64 - 1)?;
                    Value::list(l[1..].to_vec())
                }
            }
            Prim::IsEmpty => Value::Bool(list!(0).is_empty()),
            Prim::Len => match arg!(0) {
                Value::List(l) => Value::Int(l.len() as i64),
                Value::Str(s) => Value::Int(s.chars().count() as i64),
                _ => bad!(0, "list or str"),
            },
            Prim::Nth => {
                let (l, i) = (list!(0), int!(1));
                match usize::try_from(i).ok().and_then(|j| l.get(j)) {
                    Some(v) => v.clone(),
                    None => {
                        self.rule(Rule::EIndex);
                        return self.fail(errors::out_of_range(name, i, l.len()), n);
                    }
                }
            }
            Prim::SetNth => {
                let (l, i) = (list!(0), int!(1));
                match usize::try_from(i).ok().filter(|j| *j < l.len()) {
                    Some(j) => {
                        self.spend(l.len() as u64)?;
                        let mut v = l.to_vec();
                        v[j] = arg!(2).clone();
                        Value::list(v)
                    }
                    None => {
                        self.rule(Rule::EIndex);
                        return self.fail(errors::out_of_range(name, i, l.len()), n);
                    }
                }
            }
            Prim::Slice => {
                let (l, i, j) = (list!(0), int!(1), int!(2));
                let len = l.len() as i64;
                if 0 <= i && i <= j && j <= len {
                    self.spend((j - i) as u64)?;
                    Value::list(l[i as usize..j as usize].to_vec())
                } else {
                    self.rule(Rule::EIndex);
                    return self.fail(errors::bad_slice(i, j, l.len()), n);
                }
            }
            Prim::Append => {
                let (a, b) = (list!(0), list!(1));
                self.spend((a.len() + b.len()) as u64)?;
                Value::list(a.iter().chain(b.iter()).cloned().collect())
            }
            Prim::NewCell => {
                self.spend(1)?;
                let v = arg!(0).clone();
                self.stack.truncate(at);
                let c = self.new_cell(v);
                self.stack.push(c);
                return Flow::Continue(());
            }
            Prim::Get | Prim::Set => {
                let c = match arg!(0) {
                    Value::Cell(c) => *c,
                    _ => bad!(0, "cell"),
                };
                if c.run() != self.run {
                    self.rule(Rule::KStale);
                    let err = Value::error(ErrorTag::Stale.name(), arg!(0).clone());
                    return self.fail_value(err, n);
                }
                let slot = (c.id - 1) as usize;
                if op == Prim::Get {
                    self.rule(Rule::SGet);
                    self.cells[slot].clone()
                } else {
                    self.rule(Rule::SSet);
                    let v = arg!(1).clone();
                    let old = std::mem::replace(&mut self.cells[slot], v);
                    drop(old);
                    Value::Unit
                }
            }
            Prim::MakeError => {
                let tag = string!(0);
                self.spend(tag.len() as u64 + 1)?;
                Value::Error(Rc::new(crate::value::ErrorVal { tag, payload: arg!(1).clone() }))
            }
            Prim::ErrorTag | Prim::ErrorPayload => match arg!(0) {
                Value::Error(e) => {
                    if op == Prim::ErrorTag {
                        let tag = e.tag.clone();
                        self.spend(tag.len() as u64)?;
                        Value::Str(tag)
                    } else {
                        e.payload.clone()
                    }
                }
                _ => bad!(0, "error"),
            },
            Prim::EffectLabel | Prim::EffectPayload => match arg!(0) {
                Value::Effect(e) => {
                    if op == Prim::EffectLabel {
                        let label = self.code.labels[e.label as usize].as_str();
                        self.spend(label.len() as u64)?;
                        Value::str(label)
                    } else {
                        e.payload.clone()
                    }
                }
                _ => bad!(0, "effect"),
            },
            Prim::TypeOf => {
                let t = arg!(0).type_name();
                self.spend(t.len() as u64)?;
                Value::str(t)
            }
            Prim::Arity => match arg!(0) {
                Value::Fn(i, env) => {
                    let proto = self.code.groups[env.group as usize].protos[*i as usize];
                    Value::Int(self.code.protos[proto as usize].nparams as i64)
                }
                _ => bad!(0, "fn"),
            },
            Prim::IsLive => {
                let v = arg!(0).clone();
                match &v {
                    Value::Cont(k) if k.run != self.run => {
                        self.rule(Rule::KStale);
                        let err = Value::error(ErrorTag::Stale.name(), v);
                        return self.fail_value(err, n);
                    }
                    Value::Cont(k) => {
                        self.rule(Rule::KLive);
                        Value::Bool(k.is_live())
                    }
                    _ => {
                        self.rule(Rule::KNotCont);
                        let err = Value::error(ErrorTag::NotAContinuation.name(), v);
                        return self.fail_value(err, n);
                    }
                }
            }
        };
        if !matches!(op, Prim::Get | Prim::Set | Prim::IsLive) {
            self.rule(Rule::EPrim);
        }
        self.stack.truncate(at);
        self.stack.push(v);
        Flow::Continue(())
    }
}
