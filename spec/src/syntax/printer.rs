//! Printer: an [`Expr`] back to text that parses to the same tree.
//!
//! Forms that fit in the line width print flat; longer ones break one
//! sub-form per line. Indentation stops growing past a cap so a 1,000,000-deep
//! program prints in linear space.

use std::fmt::Write;

use crate::ast::*;
use crate::deep::grow;

const WIDTH: usize = 88;
const MAX_INDENT: usize = 48;

/// Print a program in the readable layout.
pub fn print_program(p: &Program) -> String {
    let mut out = String::new();
    pretty(&p.body, 0, &mut out);
    out.push('\n');
    out
}

/// Print an expression on one line.
pub fn print_flat(e: &Expr) -> String {
    let mut out = String::new();
    flat(e, &mut out);
    out
}

/// Print an expression in the readable layout, starting at column `indent`.
pub fn print_pretty(e: &Expr, indent: usize) -> String {
    let mut out = String::new();
    pretty(e, indent, &mut out);
    out
}

pub fn quote_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn labels(ls: &[Label]) -> String {
    let names: Vec<&str> = ls.iter().map(|l| l.as_str()).collect();
    format!("({})", names.join(" "))
}

/// A form is a head (printed verbatim) followed by parts.
enum Part<'a> {
    Text(String),
    Sub(&'a Expr),
    /// A bracketed group: `(text parts...)`, e.g. a clause or binding.
    Group(String, Vec<Part<'a>>),
}

fn form(e: &Expr) -> (String, Vec<Part<'_>>) {
    use ExprKind::*;
    use Part::*;
    let t = |s: &str| Text(s.to_string());
    match &e.kind {
        Lit(_) | Var(_) => unreachable!("atoms are not forms"),
        Let { name, value, body } => {
            ("let".into(), vec![Group(String::new(), vec![Group(name.clone(), vec![Sub(value)])]), Sub(body)])
        }
        Do(es) => ("do".into(), es.iter().map(Sub).collect()),
        If { cond, then, els } => ("if".into(), vec![Sub(cond), Sub(then), Sub(els)]),
        Fn(l) => ("fn".into(), vec![Text(format!("({})", l.params.join(" "))), Sub(&l.body)]),
        Letrec { funs, body } => {
            let fs = funs
                .iter()
                .map(|f| {
                    Group(f.name.clone(), vec![Text(format!("({})", f.lambda.params.join(" "))), Sub(&f.lambda.body)])
                })
                .collect();
            ("letrec".into(), vec![Group(String::new(), fs), Sub(body)])
        }
        Call { func, args } => {
            // The head is an expression; print it as the first part.
            let mut ps = vec![Sub(func)];
            ps.extend(args.iter().map(Sub));
            (String::new(), ps)
        }
        Prim { op, args } => (op.name().into(), args.iter().map(Sub).collect()),
        Emit(x) => ("emit".into(), vec![Sub(x)]),
        Mark { tag, arg } => ("mark".into(), vec![Text(quote_str(tag)), Sub(arg)]),
        Raise(x) => ("raise".into(), vec![Sub(x)]),
        MakeEffect { label, arg } => ("effect".into(), vec![t(label.as_str()), Sub(arg)]),
        Perform { label, arg } => ("perform".into(), vec![t(label.as_str()), Sub(arg)]),
        PerformValue(x) => ("perform".into(), vec![Sub(x)]),
        Resume { mode, throw, k, arg } => {
            let head = match (mode, throw) {
                (ResumeMode::Resume, false) => "resume",
                (ResumeMode::Transfer, false) => "transfer",
                (ResumeMode::Resume, true) => "resume-throw",
                (ResumeMode::Transfer, true) => "transfer-throw",
            };
            (head.into(), vec![Sub(k), Sub(arg)])
        }
        Pass { k, effect } => ("pass".into(), std::iter::once(Sub(k)).chain(effect.as_deref().map(Sub)).collect()),
        NewCont { func, envelope } => {
            ("new-cont".into(), std::iter::once(Sub(func)).chain(envelope.as_deref().map(Sub)).collect())
        }
        Try(tr) => {
            let mut ps = vec![Sub(&tr.body)];
            if let Some((x, h)) = &tr.catch {
                ps.push(Group(format!("catch {x}"), vec![Sub(h)]));
            }
            if let Some(f) = &tr.finally {
                ps.push(Group("finally".into(), vec![Sub(f)]));
            }
            ("try".into(), ps)
        }
        WithHandler(h) => {
            let mut ps = Vec::new();
            if let Some(n) = &h.name {
                ps.push(Text(format!(":name {}", quote_str(n))));
            }
            if let Some(o) = &h.only {
                ps.push(Text(format!(":only {}", labels(o))));
            }
            if let Some(n) = &h.native {
                ps.push(Text(format!(":native {}", quote_str(n))));
            }
            let clauses = h
                .clauses
                .iter()
                .map(|c| {
                    let l = c.label.as_ref().map_or("else", |l| l.as_str());
                    Group(format!("{l} ({} {})", c.param, c.k), vec![Sub(&c.body)])
                })
                .collect();
            ps.push(Group(String::new(), clauses));
            ps.push(Sub(&h.body));
            ("with-handler".into(), ps)
        }
        WithIntercept(i) => {
            let head = match i.kind {
                InterceptKind::Intercept => "with-intercept",
                InterceptKind::Observe => "with-observe",
            };
            let mut ps = Vec::new();
            if let Some(o) = &i.only {
                ps.push(Text(format!(":only {}", labels(o))));
            }
            ps.push(Sub(&i.func));
            ps.push(Sub(&i.body));
            (head.into(), ps)
        }
    }
}

fn atom(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Lit(Lit::Unit) => Some("unit".into()),
        ExprKind::Lit(Lit::Bool(b)) => Some(b.to_string()),
        ExprKind::Lit(Lit::Int(i)) => Some(i.to_string()),
        ExprKind::Lit(Lit::Str(s)) => Some(quote_str(s)),
        ExprKind::Var(v) => Some(v.clone()),
        _ => None,
    }
}

fn flat(e: &Expr, out: &mut String) {
    if let Some(a) = atom(e) {
        out.push_str(&a);
        return;
    }
    grow(|| {
        let (head, parts) = form(e);
        out.push('(');
        out.push_str(&head);
        let mut first = head.is_empty();
        for p in &parts {
            if !first {
                out.push(' ');
            }
            first = false;
            flat_part(p, out);
        }
        out.push(')');
    })
}

fn flat_part(p: &Part<'_>, out: &mut String) {
    match p {
        Part::Text(s) => out.push_str(s),
        Part::Sub(e) => flat(e, out),
        Part::Group(head, parts) => {
            out.push('(');
            out.push_str(head);
            let mut first = head.is_empty();
            for q in parts {
                if !first {
                    out.push(' ');
                }
                first = false;
                flat_part(q, out);
            }
            out.push(')');
        }
    }
}

/// Whether `p` prints flat within `limit` columns (bounded work per call).
fn fits(p: &Part<'_>, limit: usize) -> bool {
    fn go(e: &Expr, budget: &mut isize) -> bool {
        if let Some(a) = atom(e) {
            *budget -= a.len() as isize;
            return *budget >= 0;
        }
        let (head, parts) = form(e);
        *budget -= 2 + head.len() as isize + parts.len() as isize;
        parts.iter().all(|p| *budget >= 0 && go_part(p, budget)) && *budget >= 0
    }
    fn go_part(p: &Part<'_>, budget: &mut isize) -> bool {
        match p {
            Part::Text(s) => {
                *budget -= s.len() as isize;
                *budget >= 0
            }
            Part::Sub(e) => grow(|| go(e, budget)),
            Part::Group(head, parts) => {
                *budget -= 2 + head.len() as isize + parts.len() as isize;
                parts.iter().all(|q| *budget >= 0 && go_part(q, budget))
            }
        }
    }
    let mut budget = limit as isize;
    go_part(p, &mut budget)
}

fn newline(indent: usize, out: &mut String) {
    out.push('\n');
    for _ in 0..indent.min(MAX_INDENT) {
        out.push(' ');
    }
}

fn pretty(e: &Expr, indent: usize, out: &mut String) {
    let room = WIDTH.saturating_sub(indent.min(MAX_INDENT)).max(24);
    if atom(e).is_some() || fits(&Part::Sub(e), room) {
        flat(e, out);
        return;
    }
    grow(|| {
        let (head, parts) = form(e);
        out.push('(');
        out.push_str(&head);
        let inner = indent + 2;
        let mut first = head.is_empty();
        for p in &parts {
            // Short leading texts (labels, options, parameter lists) stay on the head line.
            let keep = matches!(p, Part::Text(s) if s.len() < 40) && !first;
            if first {
                first = false;
            } else if keep {
                out.push(' ');
            } else {
                newline(inner, out);
            }
            pretty_part(p, inner, out);
        }
        out.push(')');
    })
}

fn pretty_part(p: &Part<'_>, indent: usize, out: &mut String) {
    match p {
        Part::Text(s) => out.push_str(s),
        Part::Sub(e) => pretty(e, indent, out),
        Part::Group(head, parts) => {
            if fits(p, WIDTH.saturating_sub(indent.min(MAX_INDENT)).max(24)) {
                flat_part(p, out);
                return;
            }
            out.push('(');
            out.push_str(head);
            let mut first = head.is_empty();
            for q in parts {
                if first {
                    first = false;
                } else {
                    newline(indent + 1, out);
                }
                pretty_part(q, indent + 1, out);
            }
            out.push(')');
        }
    }
}
