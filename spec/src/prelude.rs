//! Preludes: libraries of kont functions a program can be run with
//! (SPEC.md §13). A prelude file is a sequence of `(define (f x ...) body)`
//! forms; running a program with it means running
//! `(letrec ((f (x ...) body) ...) program)`.

use std::sync::{Arc, OnceLock};

use crate::ast::{Expr, ExprKind, FunDef, NodeId, Program};
use crate::deep::grow;
use crate::syntax::{cursor, ParseError, Pos, SourceMap};

/// The standard prelude: the scheduler, await and cache handlers.
pub const STD: &str = include_str!("../prelude/std.kont");

/// The text of the prelude called `name`.
pub fn source(name: &str) -> Option<&'static str> {
    match name {
        "std" => Some(STD),
        _ => None,
    }
}

/// A prelude parsed once: its functions, already numbered as they are in a
/// wrapped program, and their positions.
#[derive(Clone, Debug)]
pub struct Prelude {
    pub name: String,
    /// Shared by every program wrapped with this prelude.
    funs: Arc<Vec<FunDef>>,
    /// Positions of the wrapped program's nodes `0..end`: the root (filled
    /// in per program), then the funs'.
    spans: Vec<Pos>,
    /// The first id after the prelude's nodes.
    end: NodeId,
}

impl Prelude {
    /// Parse prelude `name`; errors are positions in the prelude's own text.
    pub fn load(name: &str) -> Result<Prelude, ParseError> {
        let src = source(name).ok_or_else(|| {
            ParseError::new(Pos { line: 1, col: 1 }, format!("no prelude named {name:?} (known: std)"))
        })?;
        Prelude::parse(name, src)
    }

    /// The standard prelude, parsed once per process: programs wrapped with
    /// it share its functions.
    pub fn std() -> &'static Prelude {
        static STD_PRELUDE: OnceLock<Prelude> = OnceLock::new();
        STD_PRELUDE.get_or_init(|| Prelude::load("std").expect("the standard prelude parses"))
    }

    pub fn parse(name: &str, src: &str) -> Result<Prelude, ParseError> {
        let mut cur = cursor(src);
        let mut funs = Vec::new();
        let r = (|| {
            while !cur.at_end() {
                funs.push(cur.define()?);
            }
            Ok(())
        })();
        cur.result(r)?;
        let parsed = cur.take_spans();
        // Number the functions once as `wrap` places them: the root letrec is 0.
        let mut spans = vec![Pos::default()];
        let mut next: NodeId = 1;
        for f in funs.iter_mut() {
            renumber(&mut f.lambda.body, &mut next, &parsed, &mut spans);
        }
        Ok(Prelude { name: name.to_string(), funs: Arc::new(funs), spans, end: next })
    }

    /// The names the prelude defines.
    pub fn names(&self) -> Vec<&str> {
        self.funs.iter().map(|f| f.name.as_str()).collect()
    }

    /// `(letrec (prelude functions) body)`, renumbered, with a source map in
    /// which prelude nodes point into the prelude and the others into `map`.
    pub fn wrap(&self, mut program: Program, map: &SourceMap) -> (Program, SourceMap) {
        let mut body = std::mem::replace(&mut program.body, Expr::new(ExprKind::Lit(crate::ast::Lit::Unit)));
        let mut spans = self.spans.clone();
        spans[0] = map.pos(0).unwrap_or_default();
        let mut next = self.end;
        renumber(&mut body, &mut next, &map.spans, &mut spans);
        program.body = Expr::new(ExprKind::Letrec { funs: self.funs.clone(), body: Box::new(body) });
        (program, SourceMap { spans, prelude: Some((self.name.clone(), 1, self.end)), hosts: Vec::new() })
    }

    /// Whether `funs` are this prelude's, as `wrap` places them.
    pub fn is_own(&self, funs: &Arc<Vec<FunDef>>) -> bool {
        Arc::ptr_eq(funs, &self.funs) || **funs == *self.funs
    }
}

/// Give `e` pre-order ids from `next` on, recording each node's position
/// (looked up by its old id in `old`).
fn renumber(e: &mut Expr, next: &mut NodeId, old: &[Pos], out: &mut Vec<Pos>) {
    out.push(old.get(e.id as usize).copied().unwrap_or_default());
    e.id = *next;
    *next += 1;
    grow(|| {
        for c in e.children_mut() {
            renumber(c, next, old, out);
        }
    });
}
