//! Recursive-descent parser from tokens to [`Expr`]; grammar in SPEC.md §2.

use std::collections::VecDeque;

use super::lexer::{Lexer, Tok, Token};
use super::{ParseError, Pos, SourceMap};
use crate::ast::*;
use crate::deep::grow;

/// A handler's options and clauses: name, filter, native name, clauses.
type HandlerHead = (Option<String>, Option<Vec<Label>>, Option<String>, Vec<Clause>);

/// Words that cannot name variables.
pub const KEYWORDS: &[&str] = &[
    "let",
    "do",
    "if",
    "fn",
    "letrec",
    "emit",
    "mark",
    "effect",
    "perform",
    "with-handler",
    "with-intercept",
    "with-observe",
    "resume",
    "transfer",
    "resume-throw",
    "transfer-throw",
    "pass",
    "raise",
    "try",
    "catch",
    "finally",
    "new-cont",
    "else",
    "true",
    "false",
    "unit",
];

/// Whether `s` can name a variable: lower-case or `_` start, no reserved word or primitive.
pub fn is_var_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || "-_?!*'".contains(c))
        && !KEYWORDS.contains(&s)
        && Prim::from_name(s).is_none()
}

/// A token cursor shared by the program parser and the script parser. It
/// pulls tokens from a streaming lexer with two tokens of lookahead; a lexical
/// error ends the stream and is reported by [`Cursor::result`].
pub struct Cursor<'s> {
    lexer: Lexer<'s>,
    ahead: VecDeque<Token>,
    lex_error: Option<ParseError>,
    end: Pos,
    /// Span of each node created so far, indexed by the node's provisional id.
    spans: Vec<Pos>,
}

impl<'s> Cursor<'s> {
    pub fn new(src: &'s str, end: Pos) -> Cursor<'s> {
        Cursor { lexer: Lexer::new(src), ahead: VecDeque::new(), lex_error: None, end, spans: Vec::new() }
    }

    fn fill(&mut self, n: usize) {
        while self.ahead.len() < n && self.lex_error.is_none() {
            match self.lexer.next_token() {
                Ok(Some(t)) => self.ahead.push_back(t),
                Ok(None) => break,
                Err(e) => self.lex_error = Some(e),
            }
        }
    }

    /// A lexical error comes first: it is earlier in the text than anything
    /// the parser concluded from the truncated token stream.
    pub fn result<T>(&self, r: Result<T, ParseError>) -> Result<T, ParseError> {
        match &self.lex_error {
            Some(e) => Err(e.clone()),
            None => r,
        }
    }

    pub fn peek(&mut self) -> Option<&Tok> {
        self.fill(1);
        self.ahead.front().map(|t| &t.tok)
    }

    pub fn peek_at(&mut self, n: usize) -> Option<&Tok> {
        self.fill(n + 1);
        self.ahead.get(n).map(|t| &t.tok)
    }

    pub fn pos(&mut self) -> Pos {
        self.fill(1);
        self.ahead.front().map_or(self.end, |t| t.pos)
    }

    pub fn at_end(&mut self) -> bool {
        self.fill(1);
        self.ahead.is_empty()
    }

    pub fn bump(&mut self) -> Result<Token, ParseError> {
        self.fill(1);
        match self.ahead.pop_front() {
            Some(t) => Ok(t),
            None => Err(ParseError::new(self.end, "unexpected end of input")),
        }
    }

    pub fn err<T>(&mut self, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::new(self.pos(), msg))
    }

    pub fn expect_lparen(&mut self, what: &str) -> Result<Pos, ParseError> {
        match self.peek() {
            Some(Tok::LParen) => Ok(self.bump()?.pos),
            Some(t) => {
                let found = t.describe();
                self.err(format!("expected `(` to start {what}, found {found}"))
            }
            None => self.err(format!("expected `(` to start {what}, found end of input")),
        }
    }

    pub fn expect_rparen(&mut self, what: &str) -> Result<(), ParseError> {
        match self.peek() {
            Some(Tok::RParen) => {
                self.bump()?;
                Ok(())
            }
            Some(t) => {
                let found = t.describe();
                self.err(format!("expected `)` to close {what}, found {found}"))
            }
            None => self.err(format!("expected `)` to close {what}, found end of input")),
        }
    }

    pub fn at_rparen(&mut self) -> bool {
        matches!(self.peek(), Some(Tok::RParen))
    }

    pub fn atom(&mut self, what: &str) -> Result<(String, Pos), ParseError> {
        match self.peek() {
            Some(Tok::Atom(_)) => {
                let t = self.bump()?;
                let Tok::Atom(a) = t.tok else { unreachable!() };
                Ok((a, t.pos))
            }
            Some(t) => {
                let found = t.describe();
                self.err(format!("expected {what}, found {found}"))
            }
            None => self.err(format!("expected {what}, found end of input")),
        }
    }

    pub fn string(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Str(_)) => {
                let Tok::Str(s) = self.bump()?.tok else { unreachable!() };
                Ok(s)
            }
            Some(t) => {
                let found = t.describe();
                self.err(format!("expected {what} (a string), found {found}"))
            }
            None => self.err(format!("expected {what} (a string), found end of input")),
        }
    }

    pub fn int(&mut self, what: &str) -> Result<i64, ParseError> {
        match self.peek() {
            Some(Tok::Int(_)) => {
                let Tok::Int(i) = self.bump()?.tok else { unreachable!() };
                Ok(i)
            }
            Some(t) => {
                let found = t.describe();
                self.err(format!("expected {what} (an integer), found {found}"))
            }
            None => self.err(format!("expected {what} (an integer), found end of input")),
        }
    }

    /// Whether the next tokens are `( word`.
    pub fn at_form(&mut self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::LParen)) && matches!(self.peek_at(1), Some(Tok::Atom(a)) if a == word)
    }

    fn var(&mut self, what: &str) -> Result<String, ParseError> {
        let pos = self.pos();
        let (a, _) = self.atom(what)?;
        if !is_var_name(&a) {
            return Err(ParseError::new(pos, format!("`{a}` cannot name a variable ({what})")));
        }
        Ok(a)
    }

    pub fn label(&mut self) -> Result<Label, ParseError> {
        let pos = self.pos();
        let (a, _) = self.atom("an effect label")?;
        if !Label::is_valid(&a) {
            return Err(ParseError::new(
                pos,
                format!("`{a}` is not an effect label (labels start with an upper-case letter)"),
            ));
        }
        Ok(Label(a))
    }

    fn node(&mut self, pos: Pos, kind: ExprKind) -> Expr {
        let id = self.spans.len() as NodeId;
        self.spans.push(pos);
        Expr { id, kind }
    }

    /// Parse one expression; node ids are provisional until [`Cursor::finish_program`].
    pub fn expr(&mut self) -> Result<Expr, ParseError> {
        grow(|| self.expr_inner())
    }

    // The recursive path (expr → compound → form → body → expr) keeps its
    // frames small: error and leaf cases live in separate functions, so deep
    // programs use little native stack per level.
    fn expr_inner(&mut self) -> Result<Expr, ParseError> {
        let t = self.bump()?;
        match t.tok {
            Tok::LParen => self.compound(t.pos),
            tok => self.leaf(tok, t.pos),
        }
    }

    #[inline(never)]
    fn leaf(&mut self, tok: Tok, pos: Pos) -> Result<Expr, ParseError> {
        match tok {
            Tok::Int(i) => Ok(self.node(pos, ExprKind::Lit(Lit::Int(i)))),
            Tok::Str(s) => Ok(self.node(pos, ExprKind::Lit(Lit::Str(s)))),
            Tok::RParen => Err(ParseError::new(pos, "unexpected `)`")),
            Tok::LParen => unreachable!("compound forms are not leaves"),
            Tok::Atom(a) => match a.as_str() {
                "true" => Ok(self.node(pos, ExprKind::Lit(Lit::Bool(true)))),
                "false" => Ok(self.node(pos, ExprKind::Lit(Lit::Bool(false)))),
                "unit" => Ok(self.node(pos, ExprKind::Lit(Lit::Unit))),
                _ if is_var_name(&a) => Ok(self.node(pos, ExprKind::Var(a))),
                _ if Prim::from_name(&a).is_some() => Err(ParseError::new(
                    pos,
                    format!("primitive `{a}` is not a value; call it as `({a} ...)` or wrap it in `fn`"),
                )),
                _ if Label::is_valid(&a) => Err(ParseError::new(
                    pos,
                    format!("effect label `{a}` is not an expression; use `(perform {a} v)` or `(effect {a} v)`"),
                )),
                _ if KEYWORDS.contains(&a.as_str()) => {
                    Err(ParseError::new(pos, format!("`{a}` is a keyword; it only appears as `({a} ...)`")))
                }
                _ => Err(ParseError::new(pos, format!("unknown word `{a}`"))),
            },
        }
    }

    /// One or more expressions up to `)`, as a single expression (a `do` when several).
    fn body(&mut self, pos: Pos, what: &str) -> Result<Expr, ParseError> {
        let mut es = Vec::new();
        while !self.at_rparen() {
            if self.at_end() {
                return self.err(format!("expected `)` to close {what}, found end of input"));
            }
            es.push(self.expr()?);
        }
        self.bump()?; // `)`
        match es.len() {
            0 => Err(ParseError::new(pos, format!("{what} needs a body expression"))),
            1 => Ok(es.pop().unwrap()),
            _ => Ok(self.node(pos, ExprKind::Do(es))),
        }
    }

    /// Exactly `n` expressions up to `)`.
    fn args_exact(&mut self, n: usize, form: &str, pos: Pos) -> Result<Vec<Expr>, ParseError> {
        let mut es = Vec::with_capacity(n);
        while !self.at_rparen() {
            if self.at_end() {
                return self.err(format!("expected `)` to close `({form} ...)`, found end of input"));
            }
            es.push(self.expr()?);
        }
        self.bump()?;
        if es.len() != n {
            return Err(ParseError::new(pos, format!("`{form}` takes {n} argument(s), got {}", es.len())));
        }
        Ok(es)
    }

    fn params(&mut self, what: &str) -> Result<Vec<String>, ParseError> {
        self.expect_lparen(what)?;
        let mut ps: Vec<String> = Vec::new();
        while !self.at_rparen() {
            let pos = self.pos();
            let p = self.var("a parameter name")?;
            if ps.contains(&p) {
                return Err(ParseError::new(pos, format!("parameter `{p}` appears twice")));
            }
            ps.push(p);
        }
        self.bump()?;
        Ok(ps)
    }

    fn labels(&mut self) -> Result<Vec<Label>, ParseError> {
        self.expect_lparen("a label list")?;
        let mut ls = Vec::new();
        while !self.at_rparen() {
            ls.push(self.label()?);
        }
        self.bump()?;
        Ok(ls)
    }

    #[inline(never)]
    fn compound(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let head = match self.peek() {
            // `(true)` is a call of a literal: it parses, and fails at run time (E-Call-NotFn).
            Some(Tok::Atom(a))
                if !matches!(a.as_str(), "true" | "false" | "unit")
                    && (KEYWORDS.contains(&a.as_str()) || Prim::from_name(a).is_some()) =>
            {
                a.clone()
            }
            Some(Tok::RParen) => return Err(ParseError::new(pos, "empty form `()`; the unit value is written `unit`")),
            _ => {
                // A call: `(f arg ...)`.
                let func = self.expr()?;
                let mut args = Vec::new();
                while !self.at_rparen() {
                    if self.at_end() {
                        return self.err("expected `)` to close a call, found end of input");
                    }
                    args.push(self.expr()?);
                }
                self.bump()?;
                return Ok(self.node(pos, ExprKind::Call { func: Box::new(func), args }));
            }
        };
        self.bump()?; // head
        if let Some(op) = Prim::from_name(&head) {
            let mut args = Vec::new();
            while !self.at_rparen() {
                if self.at_end() {
                    return self.err(format!("expected `)` to close `({head} ...)`, found end of input"));
                }
                args.push(self.expr()?);
            }
            self.bump()?;
            if let Some(n) = op.arity() {
                if args.len() != n {
                    return Err(ParseError::new(pos, format!("`{head}` takes {n} argument(s), got {}", args.len())));
                }
            }
            return Ok(self.node(pos, ExprKind::Prim { op, args }));
        }
        match head.as_str() {
            "let" => self.form_let(pos),
            "do" => self.form_do(pos),
            "if" => self.form_if(pos),
            "fn" => self.form_fn(pos),
            "letrec" => self.form_letrec(pos),
            "emit" => self.form_emit(pos),
            "mark" => self.form_mark(pos),
            "raise" => self.form_raise(pos),
            "effect" => self.form_effect(pos),
            "perform" => self.form_perform(pos),
            "resume" | "transfer" | "resume-throw" | "transfer-throw" => self.form_resume(pos, &head),
            "pass" => self.form_pass(pos),
            "new-cont" => self.form_new_cont(pos),
            "try" => self.form_try(pos),
            "with-handler" => self.form_with_handler(pos),
            "with-intercept" | "with-observe" => self.form_with_intercept(pos, &head),
            "catch" | "finally" => Err(ParseError::new(pos, format!("`{head}` only appears inside `try`"))),
            "else" => Err(ParseError::new(pos, "`else` only appears as a `with-handler` clause")),
            _ => unreachable!("keyword {head} handled above"),
        }
    }

    #[inline(never)]
    fn form_let(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        self.expect_lparen("the bindings of `let`")?;
        let mut binds = Vec::new();
        while !self.at_rparen() {
            let bpos = self.expect_lparen("a `let` binding `(name value)`")?;
            let name = self.var("the bound name")?;
            let value = self.expr()?;
            self.expect_rparen("a `let` binding")?;
            binds.push((bpos, name, value));
        }
        self.bump()?;
        if binds.is_empty() {
            return Err(ParseError::new(pos, "`let` needs at least one binding"));
        }
        let mut body = self.body(pos, "`let`")?;
        // `(let ((x a) (y b)) e)` is `(let ((x a)) (let ((y b)) e))`.
        while let Some((bpos, name, value)) = binds.pop() {
            let at = if binds.is_empty() { pos } else { bpos };
            body = self.node(at, ExprKind::Let { name, value: b(value), body: b(body) });
        }
        Ok(body)
    }

    #[inline(never)]
    fn form_do(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let mut es = Vec::new();
        while !self.at_rparen() {
            if self.at_end() {
                return self.err("expected `)` to close `(do ...)`, found end of input");
            }
            es.push(self.expr()?);
        }
        self.bump()?;
        if es.is_empty() {
            return Err(ParseError::new(pos, "`do` needs at least one expression"));
        }
        Ok(self.node(pos, ExprKind::Do(es)))
    }

    #[inline(never)]
    fn form_if(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        let mut es = self.args_exact(3, "if", pos)?;
        let els = es.pop().unwrap();
        let then = es.pop().unwrap();
        let cond = es.pop().unwrap();
        Ok(self.node(pos, ExprKind::If { cond: b(cond), then: b(then), els: b(els) }))
    }

    #[inline(never)]
    fn form_fn(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        let params = self.params("the parameters of `fn`")?;
        let body = self.body(pos, "`fn`")?;
        Ok(self.node(pos, ExprKind::Fn(Lambda { params, body: b(body) })))
    }

    #[inline(never)]
    fn form_letrec(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        self.expect_lparen("the functions of `letrec`")?;
        let mut funs: Vec<FunDef> = Vec::new();
        while !self.at_rparen() {
            let fpos = self.expect_lparen("a `letrec` function `(name (params) body)`")?;
            let npos = self.pos();
            let name = self.var("a function name")?;
            if funs.iter().any(|f| f.name == name) {
                return Err(ParseError::new(npos, format!("`{name}` is defined twice in one `letrec`")));
            }
            let params = self.params("the parameters of a `letrec` function")?;
            let body = self.body(fpos, "a `letrec` function")?;
            funs.push(FunDef { name, lambda: Lambda { params, body: b(body) } });
        }
        self.bump()?;
        if funs.is_empty() {
            return Err(ParseError::new(pos, "`letrec` needs at least one function"));
        }
        let body = self.body(pos, "`letrec`")?;
        Ok(self.node(pos, ExprKind::Letrec { funs: funs.into(), body: b(body) }))
    }

    #[inline(never)]
    fn form_emit(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        let mut es = self.args_exact(1, "emit", pos)?;
        Ok(self.node(pos, ExprKind::Emit(b(es.pop().unwrap()))))
    }

    #[inline(never)]
    fn form_mark(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let tag = self.string("the mark's tag")?;
        let mut es = self.args_exact(1, "mark \"tag\"", pos)?;
        Ok(self.node(pos, ExprKind::Mark { tag, arg: Box::new(es.pop().unwrap()) }))
    }

    #[inline(never)]
    fn form_raise(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        let mut es = self.args_exact(1, "raise", pos)?;
        Ok(self.node(pos, ExprKind::Raise(b(es.pop().unwrap()))))
    }

    #[inline(never)]
    fn form_effect(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        let label = self.label()?;
        let mut es = self.args_exact(1, "effect L", pos)?;
        Ok(self.node(pos, ExprKind::MakeEffect { label, arg: b(es.pop().unwrap()) }))
    }

    #[inline(never)]
    fn form_perform(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        // `(perform x e)` with a non-label `x` is a mistyped label, not a two-argument form.
        let two = matches!(self.peek(), Some(Tok::Atom(_))) && !matches!(self.peek_at(1), Some(Tok::RParen) | None);
        if matches!(self.peek(), Some(Tok::Atom(a)) if Label::is_valid(a)) || two {
            let label = self.label()?;
            let mut es = self.args_exact(1, "perform L", pos)?;
            Ok(self.node(pos, ExprKind::Perform { label, arg: b(es.pop().unwrap()) }))
        } else {
            let mut es = self.args_exact(1, "perform", pos)?;
            Ok(self.node(pos, ExprKind::PerformValue(b(es.pop().unwrap()))))
        }
    }

    #[inline(never)]
    fn form_resume(&mut self, pos: Pos, head: &str) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        let mut es = self.args_exact(2, head, pos)?;
        let arg = es.pop().unwrap();
        let k = es.pop().unwrap();
        let mode = if head.starts_with("resume") { ResumeMode::Resume } else { ResumeMode::Transfer };
        let throw = head.ends_with("-throw");
        Ok(self.node(pos, ExprKind::Resume { mode, throw, k: b(k), arg: b(arg) }))
    }

    #[inline(never)]
    fn form_pass(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        let k = self.expr()?;
        let effect = if self.at_rparen() { None } else { Some(b(self.expr()?)) };
        self.expect_rparen("`(pass k [effect])`")?;
        Ok(self.node(pos, ExprKind::Pass { k: b(k), effect }))
    }

    #[inline(never)]
    fn form_new_cont(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let b = |e: Expr| Box::new(e);
        let func = self.expr()?;
        let envelope = if self.at_rparen() { None } else { Some(b(self.expr()?)) };
        self.expect_rparen("`(new-cont f [k])`")?;
        Ok(self.node(pos, ExprKind::NewCont { func: b(func), envelope }))
    }

    #[inline(never)]
    fn form_try(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let body = self.expr()?;
        let mut catch = None;
        let mut finally = None;
        if self.at_form("catch") {
            let cpos = self.expect_lparen("`catch`")?;
            self.bump()?;
            let x = self.var("the caught error's name")?;
            let h = self.body(cpos, "`catch`")?;
            catch = Some((x, h));
        }
        if self.at_form("finally") {
            let fpos = self.expect_lparen("`finally`")?;
            self.bump()?;
            finally = Some(self.body(fpos, "`finally`")?);
        }
        if catch.is_none() && finally.is_none() {
            return self.err("`try` needs a `(catch x ...)` or a `(finally ...)` after its body");
        }
        self.expect_rparen("`try` (its body is one expression; use `do` for several)")?;
        Ok(self.node(pos, ExprKind::Try(Box::new(TryExpr { body, catch, finally }))))
    }

    #[inline(never)]
    fn form_with_handler(&mut self, pos: Pos) -> Result<Expr, ParseError> {
        let (name, only, native, clauses) = self.handler_head(pos)?;
        let body = self.body(pos, "`with-handler`")?;
        Ok(self.node(pos, ExprKind::WithHandler(Box::new(HandlerExpr { name, only, native, clauses, body }))))
    }

    /// A handler's options and clauses, up to its body.
    #[inline(never)]
    #[allow(clippy::type_complexity)]
    fn handler_head(&mut self, pos: Pos) -> Result<HandlerHead, ParseError> {
        let mut name = None;
        let mut only = None;
        let mut native = None;
        loop {
            let opos = self.pos();
            // An option given twice is an error: the last one must not silently win.
            let twice = |set: bool, opt: &str| match set {
                true => Err(ParseError::new(opos, format!("option `{opt}` appears twice"))),
                false => Ok(()),
            };
            match self.peek() {
                Some(Tok::Atom(a)) if a == ":name" => {
                    twice(name.is_some(), ":name")?;
                    self.bump()?;
                    name = Some(self.string("the handler name")?);
                }
                Some(Tok::Atom(a)) if a == ":native" => {
                    twice(native.is_some(), ":native")?;
                    self.bump()?;
                    native = Some(self.string("the native implementation's name")?);
                }
                Some(Tok::Atom(a)) if a == ":only" => {
                    twice(only.is_some(), ":only")?;
                    self.bump()?;
                    only = Some(self.labels()?);
                }
                Some(Tok::Atom(a)) if a.starts_with(':') => {
                    let a = a.clone();
                    return self.err(format!("unknown option `{a}` (expected `:name` or `:only`)"));
                }
                _ => break,
            }
        }
        self.expect_lparen("the clause list of `with-handler`")?;
        let mut clauses: Vec<Clause> = Vec::new();
        while !self.at_rparen() {
            let cpos = self.expect_lparen("a clause `(Label (x k) body)`")?;
            let lpos = self.pos();
            let label = match self.peek() {
                Some(Tok::Atom(a)) if a == "else" => {
                    self.bump()?;
                    None
                }
                _ => Some(self.label()?),
            };
            if clauses.iter().any(|c| c.label == label) {
                let what = label.as_ref().map_or("else".to_string(), |l| l.0.clone());
                return Err(ParseError::new(lpos, format!("two clauses for `{what}`")));
            }
            self.expect_lparen("the clause parameters `(x k)`")?;
            let param = self.var("the clause's payload parameter")?;
            let kpos = self.pos();
            let k = self.var("the clause's continuation parameter")?;
            if k == param {
                return Err(ParseError::new(kpos, "clause parameters must differ"));
            }
            self.expect_rparen("the clause parameters (exactly `(x k)`)")?;
            let body = self.body(cpos, "a clause")?;
            clauses.push(Clause { label, param, k, body });
        }
        self.bump()?;
        if clauses.is_empty() {
            return Err(ParseError::new(pos, "`with-handler` needs at least one clause"));
        }
        // The catch-all goes last in the canonical form.
        if let Some(i) = clauses.iter().position(|c| c.label.is_none()) {
            let c = clauses.remove(i);
            clauses.push(c);
        }
        Ok((name, only, native, clauses))
    }

    #[inline(never)]
    fn form_with_intercept(&mut self, pos: Pos, head: &str) -> Result<Expr, ParseError> {
        let kind = if head == "with-intercept" { InterceptKind::Intercept } else { InterceptKind::Observe };
        let mut only = None;
        if matches!(self.peek(), Some(Tok::Atom(a)) if a == ":only") {
            self.bump()?;
            only = Some(self.labels()?);
        }
        if matches!(self.peek(), Some(Tok::Atom(a)) if a == ":only") {
            return self.err("option `:only` appears twice");
        }
        let func = self.expr()?;
        let body = self.body(pos, &format!("`{head}`"))?;
        Ok(self.node(pos, ExprKind::WithIntercept(Box::new(InterceptExpr { kind, only, func, body }))))
    }
    /// `(define (name param ...) body ...)`: a prelude function (provisional ids).
    pub fn define(&mut self) -> Result<FunDef, ParseError> {
        let pos = self.expect_lparen("a `(define (name params...) body...)` form")?;
        let (word, wpos) = self.atom("`define`")?;
        if word != "define" {
            return Err(ParseError::new(wpos, format!("expected `define`, found `{word}`")));
        }
        self.expect_lparen("`(name params...)`")?;
        let name = self.var("the function name")?;
        let mut params: Vec<String> = Vec::new();
        while !self.at_rparen() {
            let ppos = self.pos();
            let p = self.var("a parameter name")?;
            if params.contains(&p) {
                return Err(ParseError::new(ppos, format!("parameter `{p}` appears twice")));
            }
            params.push(p);
        }
        self.bump()?;
        let body = self.body(pos, "`define`")?;
        Ok(FunDef { name, lambda: Lambda { params, body: Box::new(body) } })
    }

    /// The positions of the nodes parsed so far, by provisional id.
    pub fn take_spans(&mut self) -> Vec<Pos> {
        std::mem::take(&mut self.spans)
    }

    /// Renumber `e` in pre-order and return the source map for the new ids.
    pub fn finish(&mut self, e: &mut Expr) -> SourceMap {
        let mut spans = Vec::with_capacity(self.spans.len());
        let old = &self.spans;
        fn go(e: &mut Expr, old: &[Pos], spans: &mut Vec<Pos>) {
            spans.push(old[e.id as usize]);
            e.id = (spans.len() - 1) as NodeId;
            grow(|| {
                for c in e.children_mut() {
                    go(c, old, spans);
                }
            });
        }
        go(e, old, &mut spans);
        self.spans.clear();
        SourceMap { spans, prelude: None, hosts: Vec::new() }
    }
}
