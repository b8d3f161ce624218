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
    let mut out = Vec::new();
    let mut it = src.char_indices().peekable();
    let (mut line, mut col) = (1u32, 1u32);
    // Advance over one char, tracking position.
    macro_rules! bump {
        () => {{
            let r = it.next();
            if let Some((_, c)) = r {
                if c == '\n' {
                    line += 1;
                    col = 1;
                } else {
                    col += 1;
                }
            }
            r
        }};
    }
    while let Some(&(_, c)) = it.peek() {
        let pos = Pos { line, col };
        match c {
            c if c.is_whitespace() => {
                bump!();
            }
            ';' => {
                while let Some(&(_, c)) = it.peek() {
                    if c == '\n' {
                        break;
                    }
                    bump!();
                }
            }
            '(' | '[' => {
                bump!();
                out.push(Token { tok: Tok::LParen, pos });
            }
            ')' | ']' => {
                bump!();
                out.push(Token { tok: Tok::RParen, pos });
            }
            '"' => {
                bump!();
                let mut s = String::new();
                loop {
                    let Some((_, c)) = bump!() else {
                        return Err(ParseError::new(pos, "unterminated string literal"));
                    };
                    match c {
                        '"' => break,
                        '\\' => {
                            let esc_pos = Pos { line, col };
                            match bump!() {
                                Some((_, 'n')) => s.push('\n'),
                                Some((_, 't')) => s.push('\t'),
                                Some((_, 'r')) => s.push('\r'),
                                Some((_, '"')) => s.push('"'),
                                Some((_, '\\')) => s.push('\\'),
                                Some((_, 'u')) => {
                                    if !matches!(bump!(), Some((_, '{'))) {
                                        return Err(ParseError::new(esc_pos, "expected `{` after `\\u`"));
                                    }
                                    let mut hex = String::new();
                                    loop {
                                        match bump!() {
                                            Some((_, '}')) => break,
                                            Some((_, h)) if h.is_ascii_hexdigit() && hex.len() < 6 => hex.push(h),
                                            _ => return Err(ParseError::new(esc_pos, "malformed `\\u{...}` escape")),
                                        }
                                    }
                                    let ch = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                                    match ch {
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
                out.push(Token { tok: Tok::Str(s), pos });
            }
            _ => {
                let mut a = String::new();
                while let Some(&(_, c)) = it.peek() {
                    if !is_atom_char(c) || c == '[' || c == ']' {
                        break;
                    }
                    a.push(c);
                    bump!();
                }
                let digits = a.strip_prefix('-').unwrap_or(&a);
                let tok = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    match a.parse::<i64>() {
                        Ok(i) => Tok::Int(i),
                        Err(_) => {
                            return Err(ParseError::new(pos, format!("integer literal {a} does not fit in 64 bits")))
                        }
                    }
                } else {
                    Tok::Atom(a)
                };
                out.push(Token { tok, pos });
            }
        }
    }
    Ok(out)
}
