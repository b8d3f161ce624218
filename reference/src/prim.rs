//! δ: the primitive operations (SPEC.md §5.1, rules E-Prim, E-Prim-Type,
//! E-Overflow, E-DivZero, E-Index, S-*, K-Live).

use kont_spec::ast::Prim;
use kont_spec::errors::{self, equality_on_functions, type_error};
use kont_spec::{ErrorTag, NodeId, Resource, Rule};

use crate::interp::Interp;
use crate::memory::size;
use crate::res::Res;
use crate::value::{CellRef, Shared, Value};

impl<'p> Interp<'p> {
    /// Apply primitive `op` to evaluated arguments at node `n`.
    pub fn prim(&mut self, op: Prim, args: Vec<Value<'p>>, n: NodeId) -> Res<'p> {
        let name = op.name();
        // E-Prim-Type with the argument's position and the expected type.
        macro_rules! bad {
            ($i:expr, $want:expr) => {{
                self.rule(Rule::EPrimType);
                let got = args[$i].type_name();
                return self.fail(type_error(name, $i + 1, $want, got), n);
            }};
        }
        macro_rules! int {
            ($i:expr) => {
                match &args[$i] {
                    Value::Int(x) => *x,
                    _ => bad!($i, "int"),
                }
            };
        }
        macro_rules! boolean {
            ($i:expr) => {
                match &args[$i] {
                    Value::Bool(x) => *x,
                    _ => bad!($i, "bool"),
                }
            };
        }
        macro_rules! string {
            ($i:expr) => {
                match &args[$i] {
                    Value::Str(x) => x.clone(),
                    _ => bad!($i, "str"),
                }
            };
        }
        macro_rules! list {
            ($i:expr) => {
                match &args[$i] {
                    Value::List(x) => x.clone(),
                    _ => bad!($i, "list"),
                }
            };
        }
        let ok = |m: &mut Interp<'p>, v: Value<'p>| {
            m.rule(Rule::EPrim);
            Res::Val(v)
        };
        match op {
            Prim::Add | Prim::Sub | Prim::Mul => {
                let (a, b) = (int!(0), int!(1));
                let r = match op {
                    Prim::Add => a.checked_add(b),
                    Prim::Sub => a.checked_sub(b),
                    _ => a.checked_mul(b),
                };
                match r {
                    Some(x) => ok(self, Value::Int(x)),
                    None => {
                        self.rule(Rule::EOverflow);
                        self.fail(errors::overflow(name, a, b), n)
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
                    Some(x) => ok(self, Value::Int(x)),
                    None => {
                        self.rule(Rule::EOverflow);
                        self.fail(errors::overflow(name, a, b), n)
                    }
                }
            }
            Prim::Eq | Prim::Ne => match args[0].view(self.run).equal(&args[1].view(self.run)) {
                Ok(eq) => ok(self, Value::Bool(eq == (op == Prim::Eq))),
                Err(_) => {
                    self.rule(Rule::EPrimType);
                    self.fail(equality_on_functions(name), n)
                }
            },
            Prim::Lt | Prim::Le | Prim::Gt | Prim::Ge => {
                let ord = match (&args[0], &args[1]) {
                    (Value::Int(a), Value::Int(b)) => a.cmp(b),
                    (Value::Str(a), Value::Str(b)) => a.as_bytes().cmp(b.as_bytes()),
                    (Value::Int(_), _) => bad!(1, "int"),
                    (Value::Str(_), _) => bad!(1, "str"),
                    _ => bad!(0, "int or str"),
                };
                let r = match op {
                    Prim::Lt => ord.is_lt(),
                    Prim::Le => ord.is_le(),
                    Prim::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                };
                ok(self, Value::Bool(r))
            }
            Prim::Not => {
                let a = boolean!(0);
                ok(self, Value::Bool(!a))
            }
            Prim::And | Prim::Or => {
                let (a, b) = (boolean!(0), boolean!(1));
                ok(self, Value::Bool(if op == Prim::And { a && b } else { a || b }))
            }
            Prim::Concat => {
                let (a, b) = (string!(0), string!(1));
                self.build((a.len() + b.len()) as u64, || Value::str(&format!("{a}{b}")))
            }
            Prim::StrLen => {
                let a = string!(0);
                ok(self, Value::Int(a.chars().count() as i64))
            }
            Prim::Show => {
                // Its text is at least as long as the value's size: a value
                // too big to show is never copied out.
                if size(&args[0], self.memory).is_none() {
                    self.spend(u64::MAX);
                    return Res::Exh(Resource::Memory);
                }
                let s = args[0].view(self.run).show();
                self.build(s.len() as u64, || Value::str(&s))
            }
            Prim::List => self.build(args.len() as u64, || Value::List(Shared::new(args))),
            Prim::Cons => {
                let tl = list!(1);
                self.build(tl.len() as u64 + 1, || {
                    let mut v = Vec::with_capacity(tl.len() + 1);
                    v.push(args[0].clone());
                    v.extend(tl.iter().cloned());
                    Value::List(Shared::new(v))
                })
            }
            Prim::Head | Prim::Tail => {
                let l = list!(0);
                if l.is_empty() {
                    self.rule(Rule::EIndex);
                    return self.fail(errors::empty_list(name), n);
                }
                if op == Prim::Head {
                    ok(self, l[0].clone())
                } else {
                    self.build(l.len() as u64 - 1, || Value::List(Shared::new(l[1..].to_vec())))
                }
            }
            Prim::IsEmpty => {
                let l = list!(0);
                ok(self, Value::Bool(l.is_empty()))
            }
            Prim::Len => match &args[0] {
                Value::List(l) => ok(self, Value::Int(l.len() as i64)),
                Value::Str(s) => ok(self, Value::Int(s.chars().count() as i64)),
                _ => bad!(0, "list or str"),
            },
            Prim::Nth => {
                let (l, i) = (list!(0), int!(1));
                match usize::try_from(i).ok().and_then(|i| l.get(i)) {
                    Some(v) => ok(self, v.clone()),
                    None => {
                        self.rule(Rule::EIndex);
                        self.fail(errors::out_of_range(name, i, l.len()), n)
                    }
                }
            }
            Prim::SetNth => {
                let (l, i) = (list!(0), int!(1));
                match usize::try_from(i).ok().filter(|j| *j < l.len()) {
                    Some(j) => self.build(l.len() as u64, || {
                        let mut v = l.to_vec();
                        v[j] = args[2].clone();
                        Value::List(Shared::new(v))
                    }),
                    None => {
                        self.rule(Rule::EIndex);
                        self.fail(errors::out_of_range(name, i, l.len()), n)
                    }
                }
            }
            Prim::Slice => {
                let (l, i, j) = (list!(0), int!(1), int!(2));
                let len = l.len() as i64;
                if 0 <= i && i <= j && j <= len {
                    self.build((j - i) as u64, || Value::List(Shared::new(l[i as usize..j as usize].to_vec())))
                } else {
                    self.rule(Rule::EIndex);
                    self.fail(errors::bad_slice(i, j, l.len()), n)
                }
            }
            Prim::Append => {
                let (a, b) = (list!(0), list!(1));
                self.build((a.len() + b.len()) as u64, || {
                    Value::List(Shared::new(a.iter().chain(b.iter()).cloned().collect()))
                })
            }
            Prim::NewCell => {
                if !self.spend(1) {
                    return Res::Exh(Resource::Memory);
                }
                self.rule(Rule::SNew);
                let id = self.store.cells.len() as u32 + 1;
                self.store.cells.push(std::cell::RefCell::new(args[0].clone()));
                Res::Val(Value::Cell(CellRef { run: self.run, id }))
            }
            Prim::Get | Prim::Set => {
                let c = match &args[0] {
                    Value::Cell(c) => *c,
                    _ => bad!(0, "cell"),
                };
                if c.run != self.run {
                    self.rule(Rule::KStale);
                    return self.fail_with(ErrorTag::Stale, args[0].clone(), n);
                }
                let slot = (c.id - 1) as usize;
                if op == Prim::Get {
                    self.rule(Rule::SGet);
                    Res::Val(self.store.cells[slot].borrow().clone())
                } else {
                    self.rule(Rule::SSet);
                    // The old content drops after the borrow ends.
                    let old = self.store.cells[slot].replace(args[1].clone());
                    drop(old);
                    Res::Val(Value::Unit)
                }
            }
            Prim::MakeError => {
                let tag = string!(0);
                self.build(tag.len() as u64 + 1, || Value::error(&tag, args[1].clone()))
            }
            Prim::ErrorTag | Prim::ErrorPayload => match &args[0] {
                Value::Error(e) => {
                    if op == Prim::ErrorTag {
                        self.build(e.0.len() as u64, || Value::str(&e.0))
                    } else {
                        ok(self, e.1.clone())
                    }
                }
                _ => bad!(0, "error"),
            },
            Prim::EffectLabel | Prim::EffectPayload => match &args[0] {
                Value::Effect(e) => {
                    if op == Prim::EffectLabel {
                        self.build(e.0.as_str().len() as u64, || Value::str(e.0.as_str()))
                    } else {
                        ok(self, e.1.clone())
                    }
                }
                _ => bad!(0, "effect"),
            },
            Prim::TypeOf => {
                let t = args[0].type_name();
                self.build(t.len() as u64, || Value::str(t))
            }
            Prim::Arity => match &args[0] {
                Value::Fn(c) => ok(self, Value::Int(c.lambda().params.len() as i64)),
                _ => bad!(0, "fn"),
            },
            Prim::IsLive => match &args[0] {
                Value::Cont(k) if k.run != self.run => {
                    self.rule(Rule::KStale);
                    self.fail_with(ErrorTag::Stale, args[0].clone(), n)
                }
                Value::Cont(k) => {
                    self.rule(Rule::KLive);
                    Res::Val(Value::Bool(k.is_live()))
                }
                other => {
                    self.rule(Rule::KNotCont);
                    let v = other.clone();
                    self.fail_with(ErrorTag::NotAContinuation, v, n)
                }
            },
        }
    }
}
