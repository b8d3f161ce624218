//! Shrinking a failing program to a small one that still fails: greedily
//! replace a node by a literal or by one of its own sub-expressions, or drop a
//! sequence element or a clause, keeping only well-scoped candidates.

use kont_spec::ast::*;
use kont_spec::{check_program, Program};

/// One way of editing a node: `None` when it does not apply.
type Edit = Box<dyn Fn(&Expr) -> Option<Expr>>;

/// Smaller programs derived from `p` by one edit, smallest edits last.
fn candidates(p: &Program) -> Vec<Program> {
    let mut out = Vec::new();
    let n = p.size();
    for id in 0..n as NodeId {
        let mut edits: Vec<Edit> = Vec::new();
        edits.push(Box::new(|e| {
            (!matches!(e.kind, ExprKind::Lit(Lit::Int(0)))).then(|| Expr::new(ExprKind::Lit(Lit::Int(0))))
        }));
        edits.push(Box::new(|e| (!matches!(e.kind, ExprKind::Lit(_))).then(|| Expr::new(ExprKind::Lit(Lit::Unit)))));
        for i in 0..6 {
            edits.push(Box::new(move |e| e.children().get(i).map(|c| (*c).clone())));
        }
        for i in 0..6 {
            edits.push(Box::new(move |e| drop_part(e, i)));
        }
        for edit in edits {
            let mut q = p.clone();
            if replace(&mut q.body, id, &*edit) {
                q.renumber();
                if q.size() < n && check_program(&q).is_ok() {
                    out.push(q);
                }
            }
        }
    }
    out
}

/// `e` without its `i`-th sequence element, clause, or `try` part.
fn drop_part(e: &Expr, i: usize) -> Option<Expr> {
    let mut e = e.clone();
    match &mut e.kind {
        ExprKind::Do(es) if es.len() > 1 && i < es.len() => {
            es.remove(i);
        }
        ExprKind::WithHandler(h) if h.clauses.len() > 1 && i < h.clauses.len() => {
            h.clauses.remove(i);
        }
        ExprKind::WithHandler(h) if i == 0 && (h.only.is_some() || h.name.is_some()) => {
            h.only = None;
            h.name = None;
        }
        ExprKind::Try(t) if i == 0 && t.catch.is_some() && t.finally.is_some() => t.catch = None,
        ExprKind::Try(t) if i == 1 && t.catch.is_some() && t.finally.is_some() => t.finally = None,
        ExprKind::Call { args, .. } | ExprKind::Prim { op: Prim::List, args } if i < args.len() => {
            args.remove(i);
        }
        _ => return None,
    }
    Some(e)
}

/// Replace the node with pre-order id `id` by `edit(node)`, if it applies.
fn replace(e: &mut Expr, id: NodeId, edit: &dyn Fn(&Expr) -> Option<Expr>) -> bool {
    if e.id == id {
        return match edit(e) {
            Some(new) => {
                *e = new;
                true
            }
            None => false,
        };
    }
    // Children have larger ids than their parent, in order: find the one containing `id`.
    let mut kids = e.children_mut();
    let pos = kids.iter().rposition(|c| c.id <= id);
    match pos {
        Some(i) => kont_spec::deep::grow(|| replace(kids[i], id, edit)),
        None => false,
    }
}

/// Shrink `p` while `fails` holds, within `budget` evaluations of `fails`.
pub fn shrink(p: &Program, budget: usize, mut fails: impl FnMut(&Program) -> bool) -> Program {
    let mut best = p.clone();
    let mut spent = 0;
    'outer: loop {
        for q in candidates(&best) {
            if spent >= budget {
                break 'outer;
            }
            spent += 1;
            if fails(&q) {
                best = q;
                continue 'outer;
            }
        }
        break;
    }
    best
}
