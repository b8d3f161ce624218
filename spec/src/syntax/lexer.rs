//! Tokens of the s-expression syntax.

use super::{ParseError, Pos};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    LParen,
    RParen,
    Int(i64),
    Str(String),
    /// Identifiers, labels, keywords (`:only`), operator names (`+`), `#k3`-style literals.
    Atom(String),
}

impl Tok {
    pub fn describe(&self) -> String {
        match self {
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Int(i) => format!("integer {i}"),
            Tok::Str(_) => "a string".into(),
            Tok::Atom(a) => format!("`{a}`"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

fn is_atom_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | ';')
}

/// Split `src` into tokens; errors carry the line:column of the offending character.
pub fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut lx = Lexer::new(src);
    let mut out = Vec::new();
    while let Some(t) = lx.next_token()? {
        out.push(t);
    }
    Ok(out)
}

/// A streaming lexer: the parser pulls tokens on demand, so a 1,000,000-level
/// program never holds its tokens in memory at once.
pub struct Lexer<'s> {
    it: std::iter::Peekable<std::str::CharIndices<'s>>,
    line: u32,
    col: u32,
}

impl<'s> Lexer<'s> {
    pub fn new(src: &'s str) -> Lexer<'s> {
        Lexer { it: src.char_indices().peekable(), line: 1, col: 1 }
    }

    fn peek(&mut self) -> Option<char> {
        self.it.peek().map(|&(_, c)| c)
    }

    fn bump(&mut self) -> Option<char> {
        let (_, c) = self.it.next()?;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn pos(&self) -> Pos {
        Pos { line: self.line, col: self.col }
    }

    /// The next token, `None` at the end of the input.
    pub fn next_token(&mut self) -> Result<Option<Token>, ParseError> {
        loop {
            let pos = self.pos();
            let Some(c) = self.peek() else { return Ok(None) };
            match c {
                c if c.is_whitespace() => {
                    self.bump();
                }
                ';' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                '(' | '[' => {
                    self.bump();
                    return Ok(Some(Token { tok: Tok::LParen, pos }));
                }
                ')' | ']' => {
                    self.bump();
                    return Ok(Some(Token { tok: Tok::RParen, pos }));
                }
                '"' => {
                    self.bump();
                    return self.string(pos).map(Some);
                }
                _ => {
                    let mut a = String::new();
                    while let Some(c) = self.peek() {
                        if !is_atom_char(c) || c == '[' || c == ']' {
                            break;
                        }
                        a.push(c);
                        self.bump();
                    }
                    let digits = a.strip_prefix('-').unwrap_or(&a);
                    let tok = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                        match a.parse::<i64>() {
                            Ok(i) => Tok::Int(i),
                            Err(_) => {
                                return Err(ParseError::new(
                                    pos,
                                    format!("integer literal {a} does not fit in 64 bits"),
                                ))
                            }
                        }
                    } else {
                        Tok::Atom(a)
                    };
                    return Ok(Some(Token { tok, pos }));
                }
            }
        }
    }

    /// The rest of a string literal whose opening quote was at `pos`.
    fn string(&mut self, pos: Pos) -> Result<Token, ParseError> {
        let mut s = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(ParseError::new(pos, "unterminated string literal"));
            };
            match c {
                '"' => return Ok(Token { tok: Tok::Str(s), pos }),
                '\\' => {
                    let esc_pos = self.pos();
                    match self.bump() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some('r') => s.push('\r'),
                        Some('"') => s.push('"'),
                        Some('\\') => s.push('\\'),
                        Some('u') => {
                            if self.bump() != Some('{') {
                                return Err(ParseError::new(esc_pos, "expected `{` after `\\u`"));
                            }
                            let mut hex = String::new();
                            loop {
                                match self.bump() {
                                    Some('}') => break,
                                    Some(h) if h.is_ascii_hexdigit() && hex.len() < 6 => hex.push(h),
                                    _ => return Err(ParseError::new(esc_pos, "malformed `\\u{...}` escape")),
                                }
                            }
                            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                Some(ch) => s.push(ch),
                                None => return Err(ParseError::new(esc_pos, "invalid unicode escape")),
                            }
                        }
                        _ => return Err(ParseError::new(esc_pos, "unknown escape in string literal")),
                    }
                }
                c => s.push(c),
            }
        }
    }
}
