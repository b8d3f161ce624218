//! The readable text syntax: s-expressions (SPEC.md §2).

mod lexer;
mod parser;
mod printer;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use lexer::{lex, Lexer, Tok, Token};
pub use parser::{is_var_name, Cursor, KEYWORDS};
pub use printer::{print_flat, print_pretty, print_program, quote_str};

use crate::ast::{NodeId, Program};

/// A 1-based line:column position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A syntax error at a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub pos: Pos,
    pub message: String,
}

impl ParseError {
    pub fn new(pos: Pos, message: impl Into<String>) -> ParseError {
        ParseError { pos, message: message.into() }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Where each node of a parsed program starts in the source.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceMap {
    pub spans: Vec<Pos>,
    /// Nodes `start..end` come from prelude `name` (their positions are in its file).
    pub prelude: Option<(String, NodeId, NodeId)>,
    /// Sites in host code (`file:line`), for node ids from [`HOST_SITE_BASE`] on.
    pub hosts: Vec<String>,
}

/// Node ids from here on name sites in host code (SPEC.md §14.6), not nodes.
pub const HOST_SITE_BASE: NodeId = 0x8000_0000;

impl SourceMap {
    pub fn pos(&self, id: NodeId) -> Option<Pos> {
        self.spans.get(id as usize).copied()
    }

    /// `line:col` when known (in `prelude NAME line:col` for prelude nodes), else `#id`.
    pub fn describe(&self, id: NodeId) -> String {
        if id >= HOST_SITE_BASE {
            return self.hosts.get((id - HOST_SITE_BASE) as usize).cloned().unwrap_or_else(|| "host".to_string());
        }
        match (self.pos(id), &self.prelude) {
            (Some(p), Some((name, start, end))) if (*start..*end).contains(&id) => format!("prelude {name} {p}"),
            (Some(p), _) => p.to_string(),
            (None, _) => format!("#{id}"),
        }
    }
}

fn end_pos(src: &str) -> Pos {
    let line = src.lines().count().max(1) as u32;
    let col = src.lines().last().map_or(0, |l| l.chars().count()) as u32 + 1;
    Pos { line, col }
}

/// A source file's bytes as text. Invalid UTF-8 is an error at the line:col
/// where it starts (columns count characters, as the parser's do).
pub fn decode(bytes: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let good = std::str::from_utf8(good).expect("valid up to here");
        let line = good.matches('\n').count() + 1;
        let col = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let byte = bytes[e.valid_up_to()];
        ParseError::new(Pos { line: line as u32, col: col as u32 }, format!("invalid UTF-8 (byte 0x{byte:02x})"))
    })
}

/// Parse a program: exactly one expression.
pub fn parse_program(src: &str) -> Result<(Program, SourceMap), ParseError> {
    let mut cur = Cursor::new(src, end_pos(src));
    let r = parse_one(&mut cur);
    cur.result(r)
}

fn parse_one(cur: &mut Cursor) -> Result<(Program, SourceMap), ParseError> {
    if cur.at_end() {
        return cur.err("empty program");
    }
    let mut body = cur.expr()?;
    if !cur.at_end() {
        return cur.err("unexpected text after the program's expression");
    }
    let map = cur.finish(&mut body);
    Ok((Program { inputs: Vec::new(), body }, map))
}

/// Start a cursor over `src` for callers that parse several forms (scripts).
pub fn cursor(src: &str) -> Cursor<'_> {
    Cursor::new(src, end_pos(src))
}

/// The parse fuzz target's body: any bytes either fail to parse with a
/// positioned error, or parse, check, print and parse back to the same tree.
pub fn fuzz_parse(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else { return };
    match parse_program(src) {
        Err(e) => assert!(e.pos.line >= 1 && e.pos.col >= 1, "a parse error without a position"),
        Ok((p, _)) => {
            let _ = crate::check::check_program(&p);
            let text = print_program(&p);
            let (q, _) = parse_program(&text).unwrap_or_else(|e| panic!("printed text does not parse: {e}\n{text}"));
            assert!(p == q, "print/parse round trip changed the tree:\n{text}");
        }
    }
}
