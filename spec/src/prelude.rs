//! Preludes: libraries of kont functions a program can be run with
//! (SPEC.md §13). A prelude file is a sequence of `(define (f x ...) body)`
//! forms; running a program with it means running
//! `(letrec ((f (x ...) body) ...) program)`.

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

/// A prelude parsed once: its functions and their positions.
#[derive(Clone, Debug)]
pub struct Prelude {
    pub name: String,
    funs: Vec<FunDef>,
    /// Positions by the funs' provisional node ids.
    spans: Vec<Pos>,
}

impl Prelude {
    /// Parse prelude `name`; errors are positions in the prelude's own text.
    pub fn load(name: &str) -> Result<Prelude, ParseError> {
        let src = source(name).ok_or_else(|| {
            ParseError::new(Pos { line: 1, col: 1 }, format!("no prelude named {name:?} (known: std)"))
        })?;
        Prelude::parse(name, src)
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
        Ok(Prelude { name: name.to_string(), funs, spans: cur.take_spans() })
    }

    /// The names the prelude defines.
    pub fn names(&self) -> Vec<&str> {
        self.funs.iter().map(|f| f.name.as_str()).collect()
    }

    /// `(letrec (prelude functions) body)`, renumbered, with a source map in
    /// which prelude nodes point into the prelude and the others into `map`.
    pub fn wrap(&self, mut program: Program, map: &SourceMap) -> (Program, SourceMap) {
        let letrec = Expr::new(ExprKind::Letrec {
            funs: self.funs.clone(),
            body: Box::new(std::mem::replace(&mut program.body, Expr::new(ExprKind::Lit(crate::ast::Lit::Unit)))),
        });
        let mut spans = Vec::new();
        let mut root = letrec;
        let body_pos = map.pos(0).unwrap_or_default();
        root.id = 0;
        spans.push(body_pos);
        let mut next: NodeId = 1;
        let ExprKind::Letrec { funs, body } = &mut root.kind else { unreachable!() };
        for f in funs.iter_mut() {
            renumber(&mut f.lambda.body, &mut next, &self.spans, &mut spans);
        }
        let prelude_end = next;
        renumber(body, &mut next, &map.spans, &mut spans);
        program.body = root;
        (program, SourceMap { spans, prelude: Some((self.name.clone(), 1, prelude_end)), hosts: Vec::new() })
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
