//! Last uses of a continuation: the `resume`/`transfer` forms after which
//! their function never reads the variable holding `k` again. There the VM
//! moves `k` out of its local slot instead of copying it, so a consumed
//! continuation object is freed (or recycled) when the form runs, not when
//! the function returns: a clause `(+ 1 (resume k v))` waiting for its
//! resume would otherwise keep a dead continuation alive for as long as it
//! waits. Nothing observable changes — the slot is never read again.
//!
//! A backward walk over one function's body in evaluation order, keeping the
//! variable names read later. It is conservative: names are not told apart
//! by binding (a later read of any variable named `k` keeps every `k` live),
//! a direct variable operand counts as read when its form runs (after the
//! form's other operands), and past a nested function, handler, interceptor
//! or `try` (whose code may read anything, at any time) everything is live.

use std::collections::HashSet;

use kont_spec::ast::{Expr, ExprKind, NodeId};
use kont_spec::deep::grow;

/// Past this many names the walk stops telling them apart (it stays linear).
const MAX_NAMES: usize = 16;

/// Variable names read after a point of the walk (a short list: a function
/// names few variables).
#[derive(Clone)]
enum Later<'p> {
    Names(Vec<&'p str>),
    /// Anything may be read.
    All,
}

impl<'p> Later<'p> {
    fn read(&mut self, x: &'p str) {
        if let Later::Names(names) = self {
            if !names.contains(&x) {
                if names.len() == MAX_NAMES {
                    *self = Later::All;
                } else {
                    names.push(x);
                }
            }
        }
    }

    fn reads(&self, x: &str) -> bool {
        match self {
            Later::Names(names) => names.contains(&x),
            Later::All => true,
        }
    }

    fn union(&mut self, other: Later<'p>) {
        match other {
            Later::All => *self = Later::All,
            Later::Names(names) => {
                for x in names {
                    self.read(x);
                }
            }
        }
    }
}

/// The `resume`/`transfer` forms of the function whose body is `body` (not
/// of functions nested in it) that are the last read of the variable they
/// name as `k`.
pub fn last_uses(body: &Expr) -> HashSet<NodeId> {
    let mut out = HashSet::new();
    walk(body, &mut Later::Names(Vec::new()), &mut out);
    out
}

/// `later`: the names read after `e` on entry, before `e` on return.
fn walk<'p>(e: &'p Expr, later: &mut Later<'p>, out: &mut HashSet<NodeId>) {
    grow(|| walk_inner(e, later, out))
}

fn walk_inner<'p>(e: &'p Expr, later: &mut Later<'p>, out: &mut HashSet<NodeId>) {
    match &e.kind {
        ExprKind::Lit(_) => {}
        ExprKind::Var(x) => later.read(x),
        ExprKind::Let { value, body, .. } => {
            walk(body, later, out);
            walk(value, later, out);
        }
        ExprKind::Do(es) => {
            for x in es.iter().rev() {
                walk(x, later, out);
            }
        }
        ExprKind::If { cond, then, els } => {
            let mut other = later.clone();
            walk(then, later, out);
            walk(els, &mut other, out);
            later.union(other);
            walk(cond, later, out);
        }
        // The group's closures capture what they name, then the body runs here.
        ExprKind::Letrec { body, .. } => {
            walk(body, later, out);
            *later = Later::All;
        }
        // Their code runs in other functions (or, for a `try`'s handlers,
        // whenever the body raises): they may read anything.
        ExprKind::Fn(_) | ExprKind::WithHandler(_) | ExprKind::WithIntercept(_) | ExprKind::Try(_) => {
            *later = Later::All
        }
        ExprKind::Resume { k, arg, .. } => {
            if let ExprKind::Var(x) = &k.kind {
                if !later.reads(x) {
                    out.insert(e.id);
                }
            }
            operands([&**k, &**arg].into_iter(), later, out);
        }
        ExprKind::Call { func, args } => operands(std::iter::once(&**func).chain(args), later, out),
        ExprKind::Prim { args, .. } => operands(args.iter(), later, out),
        ExprKind::Pass { k, effect } => operands(std::iter::once(&**k).chain(effect.as_deref()), later, out),
        ExprKind::NewCont { func, envelope } => {
            operands(std::iter::once(&**func).chain(envelope.as_deref()), later, out)
        }
        ExprKind::Emit(x)
        | ExprKind::Mark { arg: x, .. }
        | ExprKind::MakeEffect { arg: x, .. }
        | ExprKind::Perform { arg: x, .. }
        | ExprKind::PerformValue(x)
        | ExprKind::Raise(x) => walk(x, later, out),
    }
}

/// A form's operands, evaluated left to right; a variable operand may be
/// read only when the form runs, after the others.
fn operands<'p>(
    xs: impl DoubleEndedIterator<Item = &'p Expr> + Clone,
    later: &mut Later<'p>,
    out: &mut HashSet<NodeId>,
) {
    for x in xs.clone() {
        if let ExprKind::Var(name) = &x.kind {
            later.read(name);
        }
    }
    for x in xs.rev() {
        if !matches!(x.kind, ExprKind::Var(_)) {
            walk(x, later, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kont_spec::parse_program;

    /// The last-use forms of `source`'s top function, by their text.
    fn moved(source: &str) -> Vec<String> {
        let (p, _) = parse_program(source).expect("parses");
        let out = last_uses(&p.body);
        let mut found = Vec::new();
        p.body.walk(&mut |e| {
            if out.contains(&e.id) {
                found.push(kont_spec::syntax::print_flat(e));
            }
        });
        found
    }

    #[test]
    fn a_resume_is_a_last_use_when_nothing_after_it_reads_k() {
        assert_eq!(moved("(+ 1 (resume k (+ x 1)))"), ["(resume k (+ x 1))"]);
        assert_eq!(moved("(let ((r (resume k x))) (+ r y))"), ["(resume k x)"]);
        // Each branch's resume is the last on its path.
        assert_eq!(moved("(if c (resume k 1) (transfer k 2))"), ["(resume k 1)", "(transfer k 2)"]);
    }

    #[test]
    fn a_later_read_keeps_k() {
        assert!(moved("(do (resume k 1) (live? k))").is_empty());
        assert!(moved("(let ((r (resume k 1))) (list r k))").is_empty());
        // An operand named directly is read when its form runs, after the resume.
        assert!(moved("(+ k (resume k 1))").is_empty());
        // The value is computed before the resume reads k: that read is earlier.
        assert_eq!(moved("(resume k (live? k))"), ["(resume k (live? k))"]);
        // Only the second resume is the last.
        assert_eq!(moved("(do (resume k 1) (resume k 2))"), ["(resume k 2)"]);
        // One branch reads k after the if: the resume before it keeps k.
        assert!(moved("(do (resume k 1) (if c k 0))").is_empty());
    }

    #[test]
    fn code_that_may_run_later_keeps_everything() {
        assert!(moved("(do (resume k 1) (fn (z) z))").is_empty());
        assert!(moved("(try (resume k 1) (catch e (resume k 2)))").is_empty());
        assert!(moved("(do (resume k 1) (with-handler ((A (x j) x)) 1))").is_empty());
        // A nested function's own resumes are its own function's business.
        assert!(moved("(fn (k) (resume k 1))").is_empty());
        // A letrec's body runs here, after its closures are made.
        assert_eq!(moved("(letrec ((f (x) x)) (resume k (f 1)))"), ["(resume k (f 1))"]);
        assert!(moved("(do (resume k 1) (letrec ((f (x) k)) (f 1)))").is_empty());
    }
}
