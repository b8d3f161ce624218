//! Static checks run before evaluation (SPEC.md §2.3): every variable is bound.
//! The parser already enforces arities of forms and primitives, label and
//! name shapes, and clause uniqueness; trees built another way (JSON,
//! generators) get those checked here too.

use std::fmt;

use crate::ast::*;
use crate::deep::grow;
use crate::syntax::{is_var_name, SourceMap};

/// A program rejected before it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckError {
    pub site: NodeId,
    pub message: String,
}

impl CheckError {
    pub fn render(&self, map: Option<&SourceMap>) -> String {
        match map {
            Some(m) => format!("{}: {}", m.describe(self.site), self.message),
            None => format!("node #{}: {}", self.site, self.message),
        }
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(None))
    }
}

impl std::error::Error for CheckError {}

/// Check a whole program; its inputs are in scope.
pub fn check_program(p: &Program) -> Result<(), CheckError> {
    let mut scope: Vec<&str> = p.inputs.iter().map(String::as_str).collect();
    check(&p.body, &mut scope)
}

fn err<T>(e: &Expr, message: impl Into<String>) -> Result<T, CheckError> {
    Err(CheckError { site: e.id, message: message.into() })
}

fn names<'a>(e: &Expr, ns: impl IntoIterator<Item = &'a String>) -> Result<(), CheckError> {
    for n in ns {
        if !is_var_name(n) {
            return err(e, format!("`{n}` cannot name a variable"));
        }
    }
    Ok(())
}

fn labels(e: &Expr, only: &Option<Vec<Label>>) -> Result<(), CheckError> {
    for l in only.iter().flatten() {
        if !Label::is_valid(l.as_str()) {
            return err(e, format!("`{l}` is not an effect label"));
        }
    }
    Ok(())
}

fn check<'a>(e: &'a Expr, scope: &mut Vec<&'a str>) -> Result<(), CheckError> {
    grow(|| check_inner(e, scope))
}

/// Check `body` with `bound` pushed on the scope.
fn under<'a>(body: &'a Expr, bound: &[&'a str], scope: &mut Vec<&'a str>) -> Result<(), CheckError> {
    let n = scope.len();
    scope.extend_from_slice(bound);
    let r = check(body, scope);
    scope.truncate(n);
    r
}

fn check_inner<'a>(e: &'a Expr, scope: &mut Vec<&'a str>) -> Result<(), CheckError> {
    use ExprKind::*;
    match &e.kind {
        Lit(_) => Ok(()),
        Var(x) => {
            if scope.iter().rev().any(|y| y == x) {
                Ok(())
            } else {
                err(e, format!("unbound variable `{x}`"))
            }
        }
        Let { name, value, body } => {
            names(e, [name])?;
            check(value, scope)?;
            under(body, &[name], scope)
        }
        Do(es) if es.is_empty() => err(e, "`do` needs at least one expression"),
        Fn(l) => lambda(e, l, scope),
        Letrec { funs, body } => {
            if funs.is_empty() {
                return err(e, "`letrec` needs at least one function");
            }
            names(e, funs.iter().map(|f| &f.name))?;
            let fnames: Vec<&str> = funs.iter().map(|f| f.name.as_str()).collect();
            if (1..fnames.len()).any(|i| fnames[..i].contains(&fnames[i])) {
                return err(e, "a `letrec` defines the same name twice");
            }
            let n = scope.len();
            scope.extend_from_slice(&fnames);
            for f in funs.iter() {
                lambda(e, &f.lambda, scope)?;
            }
            let r = check(body, scope);
            scope.truncate(n);
            r
        }
        Prim { op, args } => {
            if op.arity().is_some_and(|n| n != args.len()) {
                return err(
                    e,
                    format!("`{}` takes {} argument(s), got {}", op.name(), op.arity().unwrap(), args.len()),
                );
            }
            args.iter().try_for_each(|a| check(a, scope))
        }
        MakeEffect { label, arg } | Perform { label, arg } => {
            if !Label::is_valid(label.as_str()) {
                return err(e, format!("`{label}` is not an effect label"));
            }
            check(arg, scope)
        }
        WithHandler(h) => {
            labels(e, &h.only)?;
            if h.clauses.is_empty() {
                return err(e, "`with-handler` needs at least one clause");
            }
            for (i, c) in h.clauses.iter().enumerate() {
                if h.clauses[..i].iter().any(|d| d.label == c.label) {
                    return err(e, "two clauses for the same label");
                }
                if c.label.as_ref().is_some_and(|l| !Label::is_valid(l.as_str())) {
                    return err(e, "a clause label is not an effect label");
                }
                names(e, [&c.param, &c.k])?;
                if c.param == c.k {
                    return err(e, "clause parameters must differ");
                }
                under(&c.body, &[&c.param, &c.k], scope)?;
            }
            check(&h.body, scope)
        }
        WithIntercept(i) => {
            labels(e, &i.only)?;
            check(&i.func, scope)?;
            check(&i.body, scope)
        }
        Try(t) => {
            if t.catch.is_none() && t.finally.is_none() {
                return err(e, "`try` needs a catch or a finally");
            }
            check(&t.body, scope)?;
            if let Some((x, h)) = &t.catch {
                names(e, [x])?;
                under(h, &[x], scope)?;
            }
            if let Some(f) = &t.finally {
                check(f, scope)?;
            }
            Ok(())
        }
        _ => e.children().into_iter().try_for_each(|c| check(c, scope)),
    }
}

fn lambda<'a>(e: &'a Expr, l: &'a Lambda, scope: &mut Vec<&'a str>) -> Result<(), CheckError> {
    names(e, &l.params)?;
    if (1..l.params.len()).any(|i| l.params[..i].contains(&l.params[i])) {
        return err(e, "a parameter appears twice");
    }
    let ps: Vec<&str> = l.params.iter().map(String::as_str).collect();
    under(&l.body, &ps, scope)
}
