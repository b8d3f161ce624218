//! `.kont` script files: programs with assertions, in the spirit of `.wast`.
//!
//! ```text
//! ;; comment
//! (test "resume returns the body's final value"
//!   (rules D-Handle K-Resume)               ; SPEC.md rules this case exercises
//!   (limits :fuel 1000)                     ; optional; also :depth n, :memory n
//!   (program
//!     (with-handler ((Ping (x k) (+ 1 (resume k x)))) (perform Ping 41)))
//!   (value 42)                              ; or (error "tag") / (error "tag" payload) / (exhausted fuel|memory|depth)
//!   (output)                                ; optional: exact emitted values
//!   (trace "perform d1 Ping 41" ...)        ; optional: exact compact trace
//!   (fuel-spent 12)                         ; optional: exact fuel spent
//!   (memory-spent 0))                       ; optional: exact memory spent
//! ```
//!
//! `(prelude "std")` runs the program with a prelude's functions in scope.
//! `(before e)` names a program run first, in its own run; its final value is
//! the input `prev` of `program` (how a host carries values between runs).
//!
//! Text that must be rejected, in the spirit of `.wast`'s `assert_malformed`
//! and `assert_invalid`, is a test with one clause instead of a program and
//! an outcome: the text, then a fragment its error message (`line:col:
//! message`, positions within the text) must contain.
//!
//! ```text
//! (test "an unclosed list" (malformed "(+ 1 2" "1:7: expected `)`"))      ; the parser rejects it
//! (test "an unbound name" (invalid "(+ x 1)" "1:4: unbound variable `x`")) ; it parses; the static checks reject it
//! ```

use std::path::{Path, PathBuf};

use crate::ast::Program;
use crate::check::check_program;
use crate::outcome::{Limits, Outcome, Resource, RunResult};
use crate::rules::Rule;
use crate::syntax::{cursor, Cursor, ParseError, Pos, SourceMap, Tok};
use crate::trace::Event;
use crate::value::ValueView;

/// The expected outcome of a case.
#[derive(Clone, Debug, PartialEq)]
pub enum ExpectOutcome {
    Value(ValueView),
    /// Only the tag is checked.
    ErrorTag(String),
    /// Tag and payload are checked.
    ErrorValue(ValueView),
    Exhausted(Resource),
}

#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub pos: Pos,
    pub rules: Vec<Rule>,
    pub fuel: Option<u64>,
    pub depth: Option<u32>,
    pub memory: Option<u64>,
    pub program: Program,
    pub map: SourceMap,
    /// A program run first; its value is the input `prev` of `program`.
    pub before: Option<(Program, SourceMap)>,
    pub outcome: ExpectOutcome,
    pub output: Option<Vec<ValueView>>,
    pub trace: Option<Vec<String>>,
    /// Exact fuel spent (SPEC.md §9.1).
    pub spent: Option<u64>,
    /// Exact memory spent (SPEC.md §9.2).
    pub memory_spent: Option<u64>,
}

/// Where a text must be rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// By the parser: `(malformed "text" "fragment")`.
    Malformed,
    /// By the static checks, after it parses: `(invalid "text" "fragment")`.
    Invalid,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Malformed => "malformed",
            Stage::Invalid => "invalid",
        }
    }
}

/// A case whose text must be rejected with a message containing `fragment`.
#[derive(Clone, Debug)]
pub struct Rejection {
    pub name: String,
    pub pos: Pos,
    pub stage: Stage,
    pub text: String,
    pub fragment: String,
    /// The static checks see this prelude's names.
    pub prelude: Option<String>,
}

impl Rejection {
    /// Every way the text's rejection differs from the expectation; empty
    /// means the case passes.
    pub fn failures(&self) -> Vec<String> {
        let got = match (crate::syntax::parse_program(&self.text), self.stage) {
            (Err(e), Stage::Malformed) => e.to_string(),
            (Err(e), Stage::Invalid) => {
                return vec![format!("expected the parser to accept the text and the static checks to reject it; the parser rejected it: {e}")]
            }
            (Ok((program, map)), stage) => {
                let (program, map) = match &self.prelude {
                    None => (program, map),
                    Some(name) => match crate::prelude::Prelude::load(name) {
                        Ok(p) => p.wrap(program, &map),
                        Err(e) => return vec![format!("prelude {name}: {e}")],
                    },
                };
                match (check_program(&program), stage) {
                    (Err(e), Stage::Invalid) => e.render(Some(&map)),
                    (Err(e), Stage::Malformed) => {
                        return vec![format!(
                            "expected the parser to reject the text; it parsed, and the static checks rejected it: {}",
                            e.render(Some(&map))
                        )]
                    }
                    (Ok(()), Stage::Malformed) => return vec!["expected the parser to reject the text; it parsed".into()],
                    (Ok(()), Stage::Invalid) => {
                        return vec!["expected the static checks to reject the text; they accepted it".into()]
                    }
                }
            }
        };
        if got.contains(&self.fragment) {
            Vec::new()
        } else {
            vec![format!("expected a message containing {:?}, got {got:?}", self.fragment)]
        }
    }
}

#[derive(Clone, Debug)]
pub struct Script {
    pub path: PathBuf,
    pub cases: Vec<Case>,
    /// Texts that must be rejected.
    pub rejections: Vec<Rejection>,
}

/// An error in a script file, with file:line:column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub path: PathBuf,
    pub error: ParseError,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.error)
    }
}

impl std::error::Error for ScriptError {}

impl Case {
    /// The limits this case runs under, over the given defaults.
    pub fn limits(&self, defaults: Limits) -> Limits {
        Limits {
            fuel: self.fuel.unwrap_or(defaults.fuel),
            depth: self.depth.unwrap_or(defaults.depth),
            memory: self.memory.unwrap_or(defaults.memory),
        }
    }

    /// Whether the case needs a trace to be checked.
    pub fn wants_trace(&self) -> bool {
        self.trace.is_some()
    }

    /// Every way `r` differs from the expectations; empty means the case passes.
    pub fn failures(&self, r: &RunResult) -> Vec<String> {
        let mut fails = Vec::new();
        let got = r.outcome.render(Some(&self.map));
        match (&self.outcome, &r.outcome) {
            (ExpectOutcome::Value(want), Outcome::Value { value }) if want == value => {}
            (ExpectOutcome::ErrorTag(tag), Outcome::Error { error, .. }) if error.error_tag() == Some(tag) => {}
            (ExpectOutcome::ErrorValue(want), Outcome::Error { error, .. }) if want == error => {}
            (ExpectOutcome::Exhausted(res), Outcome::Exhausted { resource }) if res == resource => {}
            (want, _) => fails.push(format!("expected {}, got {got}", describe(want))),
        }
        if let Some(want) = &self.output {
            if want != &r.output {
                fails.push(format!("expected output {}, got {}", show_list(want), show_list(&r.output)));
            }
        }
        if let (Some(want), false) = (self.spent, r.native) {
            if want != r.steps {
                fails.push(format!("expected {want} fuel spent, got {}", r.steps));
            }
        }
        if let (Some(want), false) = (self.memory_spent, r.native) {
            if want != r.memory {
                fails.push(format!("expected {want} memory spent, got {}", r.memory));
            }
        }
        if let Some(want) = &self.trace {
            let got: Vec<String> = r.trace.iter().map(Event::to_string).collect();
            if want != &got {
                let i = want.iter().zip(&got).position(|(a, b)| a != b).unwrap_or(want.len().min(got.len()));
                fails.push(format!(
                    "trace differs at event {}: expected {:?}, got {:?}\n  full trace:\n    {}",
                    i + 1,
                    want.get(i).map(String::as_str).unwrap_or("<end>"),
                    got.get(i).map(String::as_str).unwrap_or("<end>"),
                    got.join("\n    ")
                ));
            }
        }
        fails
    }
}

fn describe(o: &ExpectOutcome) -> String {
    match o {
        ExpectOutcome::Value(v) => format!("value {v}"),
        ExpectOutcome::ErrorTag(t) => format!("an error tagged {t:?}"),
        ExpectOutcome::ErrorValue(v) => format!("error {v}"),
        ExpectOutcome::Exhausted(r) => format!("exhausted {}", r.name()),
    }
}

fn show_list(vs: &[ValueView]) -> String {
    let parts: Vec<String> = vs.iter().map(ValueView::to_string).collect();
    format!("[{}]", parts.join(" "))
}

impl Script {
    pub fn load(path: &Path) -> Result<Script, ScriptError> {
        let bytes = std::fs::read(path).map_err(|e| ScriptError {
            path: path.to_path_buf(),
            error: ParseError::new(Pos { line: 1, col: 1 }, format!("cannot read: {e}")),
        })?;
        let src = crate::syntax::decode(&bytes).map_err(|error| ScriptError { path: path.to_path_buf(), error })?;
        Script::parse(path, src)
    }

    pub fn parse(path: &Path, src: &str) -> Result<Script, ScriptError> {
        let wrap = |error| ScriptError { path: path.to_path_buf(), error };
        let mut cur = cursor(src);
        let mut cases: Vec<Case> = Vec::new();
        let mut rejections: Vec<Rejection> = Vec::new();
        loop {
            let at_end = cur.at_end();
            cur.result(Ok(())).map_err(wrap)?;
            if at_end {
                break;
            }
            let entry = parse_case(&mut cur);
            let entry = cur.result(entry).map_err(wrap)?;
            let (name, pos) = match &entry {
                Entry::Case(c) => (&c.name, c.pos),
                Entry::Rejection(r) => (&r.name, r.pos),
            };
            if cases.iter().map(|c| &c.name).chain(rejections.iter().map(|r| &r.name)).any(|n| n == name) {
                return Err(wrap(ParseError::new(pos, format!("two tests named {name:?}"))));
            }
            match entry {
                Entry::Case(c) => cases.push(*c),
                Entry::Rejection(r) => rejections.push(r),
            }
        }
        Ok(Script { path: path.to_path_buf(), cases, rejections })
    }
}

/// One `(test ...)` form.
enum Entry {
    Case(Box<Case>),
    Rejection(Rejection),
}

fn parse_case(cur: &mut Cursor) -> Result<Entry, ParseError> {
    let pos = cur.expect_lparen("a `(test \"name\" ...)` form")?;
    let (head, hpos) = cur.atom("`test`")?;
    if head != "test" {
        return Err(ParseError::new(hpos, format!("expected `test`, found `{head}`")));
    }
    let name = cur.string("the test name")?;
    let mut rules = Vec::new();
    let (mut fuel, mut depth, mut memory) = (None, None, None);
    let mut program = None;
    let mut before = None;
    let mut outcome = None;
    let mut output = None;
    let mut trace = None;
    let mut spent = None;
    let mut memory_spent = None;
    let mut prelude: Option<(String, Pos)> = None;
    let mut rejection: Option<(Stage, String, String)> = None;
    // The first clause that only makes sense for a program that runs.
    let mut run_clause: Option<(String, Pos)> = None;
    let mut seen: Vec<String> = Vec::new();
    while !cur.at_rparen() {
        let fpos = cur.expect_lparen("a test clause")?;
        let (word, wpos) = cur.atom("a test clause name")?;
        // The clauses that hold one setting each: a second would silently win.
        if matches!(word.as_str(), "rules" | "limits" | "prelude" | "fuel-spent" | "memory-spent" | "output" | "trace")
        {
            if seen.contains(&word) {
                return Err(ParseError::new(fpos, format!("a test has one `({word} ...)`")));
            }
            seen.push(word.clone());
        }
        if !matches!(word.as_str(), "prelude" | "malformed" | "invalid") && run_clause.is_none() {
            run_clause = Some((word.clone(), fpos));
        }
        match word.as_str() {
            "malformed" | "invalid" => {
                if rejection.is_some() {
                    return Err(ParseError::new(fpos, "a test expects one rejection"));
                }
                let stage = if word == "malformed" { Stage::Malformed } else { Stage::Invalid };
                let text = cur.string("the rejected text")?;
                let fragment = cur.string("the expected message fragment")?;
                cur.expect_rparen(&format!("`({word} \"text\" \"message fragment\")`"))?;
                rejection = Some((stage, text, fragment));
            }
            "rules" => {
                while !cur.at_rparen() {
                    let (r, rpos) = cur.atom("a rule name")?;
                    match Rule::from_name(&r) {
                        Some(rule) => rules.push(rule),
                        None => return Err(ParseError::new(rpos, format!("`{r}` is not a rule of SPEC.md"))),
                    }
                }
                cur.bump()?;
            }
            "limits" => {
                while !cur.at_rparen() {
                    let (opt, opos) = cur.atom("`:fuel`, `:depth` or `:memory`")?;
                    let repeated = |set: bool| match set {
                        true => Err(ParseError::new(opos, format!("`{opt}` appears twice in `limits`"))),
                        false => Ok(()),
                    };
                    match opt.as_str() {
                        ":fuel" => {
                            repeated(fuel.is_some())?;
                            fuel = Some(limit(cur, "the fuel", u64::MAX)?);
                        }
                        ":depth" => {
                            repeated(depth.is_some())?;
                            depth = Some(limit(cur, "the depth", u32::MAX as u64)? as u32);
                        }
                        ":memory" => {
                            repeated(memory.is_some())?;
                            memory = Some(limit(cur, "the memory", u64::MAX)?);
                        }
                        _ => return Err(ParseError::new(opos, format!("unknown limit `{opt}`"))),
                    }
                }
                cur.bump()?;
            }
            "program" | "before" => {
                let slot = if word == "program" { &mut program } else { &mut before };
                if slot.is_some() {
                    return Err(ParseError::new(fpos, format!("a test has one `{word}`")));
                }
                let mut body = cur.expr()?;
                cur.expect_rparen(&format!("`{word}` (it holds one expression)"))?;
                let map = cur.finish(&mut body);
                *slot = Some((Program { inputs: Vec::new(), body }, map));
            }
            "value" | "error" | "exhausted" => {
                if outcome.is_some() {
                    return Err(ParseError::new(fpos, "a test expects one outcome"));
                }
                outcome = Some(match word.as_str() {
                    "value" => {
                        let v = ValueView::parse(cur)?;
                        cur.expect_rparen("`(value v)`")?;
                        ExpectOutcome::Value(v)
                    }
                    "error" => {
                        let tag = cur.string("the error tag")?;
                        if cur.at_rparen() {
                            cur.bump()?;
                            ExpectOutcome::ErrorTag(tag)
                        } else {
                            let payload = ValueView::parse(cur)?;
                            cur.expect_rparen("`(error \"tag\" payload)`")?;
                            ExpectOutcome::ErrorValue(ValueView::error(tag, payload))
                        }
                    }
                    _ => {
                        let (r, rpos) = cur.atom("`fuel`, `memory` or `depth`")?;
                        let res = match r.as_str() {
                            "fuel" => Resource::Fuel,
                            "memory" => Resource::Memory,
                            "depth" => Resource::Depth,
                            _ => return Err(ParseError::new(rpos, "expected `fuel`, `memory` or `depth`")),
                        };
                        cur.expect_rparen("`(exhausted fuel|memory|depth)`")?;
                        ExpectOutcome::Exhausted(res)
                    }
                });
            }
            "prelude" => {
                prelude = Some((cur.string("the prelude's name")?, fpos));
                cur.expect_rparen("`(prelude \"name\")`")?;
            }
            "fuel-spent" => {
                spent = Some(limit(cur, "the fuel spent", u64::MAX)?);
                cur.expect_rparen("`(fuel-spent n)`")?;
            }
            "memory-spent" => {
                memory_spent = Some(limit(cur, "the memory spent", u64::MAX)?);
                cur.expect_rparen("`(memory-spent n)`")?;
            }
            "output" => {
                let mut vs = Vec::new();
                while !cur.at_rparen() {
                    vs.push(ValueView::parse(cur)?);
                }
                cur.bump()?;
                output = Some(vs);
            }
            "trace" => {
                let mut lines = Vec::new();
                while !cur.at_rparen() {
                    match cur.peek() {
                        Some(Tok::Str(_)) => lines.push(cur.string("a trace line")?),
                        _ => return cur.err("trace lines are strings"),
                    }
                }
                cur.bump()?;
                trace = Some(lines);
            }
            _ => return Err(ParseError::new(wpos, format!("unknown test clause `{word}`"))),
        }
    }
    cur.bump()?;
    if let Some((stage, text, fragment)) = rejection {
        if let Some((word, wpos)) = run_clause {
            return Err(ParseError::new(
                wpos,
                format!("a `{}` test has no `{word}`: its text never runs", stage.name()),
            ));
        }
        if let Some((name, ppos)) = &prelude {
            crate::prelude::Prelude::load(name).map_err(|e| ParseError::new(*ppos, format!("prelude {name}: {e}")))?;
        }
        let prelude = prelude.map(|(n, _)| n);
        return Ok(Entry::Rejection(Rejection { name, pos, stage, text, fragment, prelude }));
    }
    let Some((mut program, mut map)) = program else {
        return Err(ParseError::new(pos, format!("test {name:?} has no `(program ...)`")));
    };
    if let Some((pname, ppos)) = prelude {
        let p = crate::prelude::Prelude::load(&pname)
            .map_err(|e| ParseError::new(ppos, format!("prelude {pname}: {e}")))?;
        let (q, m) = p.wrap(program, &map);
        program = q;
        map = m;
    }
    if before.is_some() {
        program.inputs = vec!["prev".to_string()];
    }
    for (p, m) in std::iter::once((&program, &map)).chain(before.iter().map(|(p, m)| (p, m))) {
        if let Err(e) = check_program(p) {
            return Err(ParseError::new(m.pos(e.site).unwrap_or(pos), e.message));
        }
    }
    let Some(outcome) = outcome else {
        return Err(ParseError::new(
            pos,
            format!("test {name:?} expects no outcome: add `(value ...)`, `(error ...)` or `(exhausted ...)`"),
        ));
    };
    Ok(Entry::Case(Box::new(Case {
        name,
        pos,
        rules,
        fuel,
        depth,
        memory,
        program,
        map,
        before,
        outcome,
        output,
        trace,
        spent,
        memory_spent,
    })))
}

/// A non-negative integer at most `max` (a limit, or the fuel spent);
/// anything else is an error at the number, never silently clamped.
fn limit(cur: &mut Cursor, what: &str, max: u64) -> Result<u64, ParseError> {
    let pos = cur.pos();
    let n = cur.int(what)?;
    match u64::try_from(n) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(ParseError::new(pos, format!("{what} must be an integer from 0 to {max}, not {n}"))),
    }
}

/// All `.kont` files under `path` (a file or a directory), sorted.
pub fn collect_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(out);
    }
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "kont") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(src: &str) -> Result<Script, ScriptError> {
        Script::parse(Path::new("t.kont"), src)
    }

    fn failures(src: &str) -> Vec<String> {
        let s = script(src).unwrap();
        assert_eq!(s.rejections.len(), 1);
        s.rejections[0].failures()
    }

    #[test]
    fn a_rejection_passes_only_at_its_stage_with_its_message() {
        // Right stage, message fragment found.
        assert!(failures(r#"(test "t" (malformed "(+ 1" "1:5: expected `)`"))"#).is_empty());
        assert!(failures(r#"(test "t" (invalid "(+ x 1)" "1:4: unbound variable `x`"))"#).is_empty());
        // Wrong fragment.
        let f = failures(r#"(test "t" (malformed "(+ 1" "1:1: expected `)`"))"#);
        assert!(f.len() == 1 && f[0].contains("expected a message containing"), "{f:?}");
        // Text the parser accepts, or rejects when the checks should.
        let f = failures(r#"(test "t" (malformed "(+ 1 2)" "x"))"#);
        assert!(f.len() == 1 && f[0].contains("it parsed"), "{f:?}");
        let f = failures(r#"(test "t" (malformed "(+ x 2)" "unbound"))"#);
        assert!(f.len() == 1 && f[0].contains("the static checks rejected it"), "{f:?}");
        let f = failures(r#"(test "t" (invalid "(+ 1" "expected"))"#);
        assert!(f.len() == 1 && f[0].contains("the parser rejected it"), "{f:?}");
        let f = failures(r#"(test "t" (invalid "(+ 1 2)" "unbound"))"#);
        assert!(f.len() == 1 && f[0].contains("they accepted it"), "{f:?}");
    }

    #[test]
    fn the_prelude_is_in_scope_of_an_invalid_text() {
        let src = r#"(test "t" (prelude "std") (invalid "(spawn (fn (_) 1))" "unbound"))"#;
        let f = failures(src);
        assert!(f.len() == 1 && f[0].contains("they accepted it"), "{f:?}");
        assert!(failures(r#"(test "t" (prelude "std") (invalid "(spawn y)" "1:8: unbound variable `y`"))"#).is_empty());
    }

    #[test]
    fn a_rejection_has_no_program_outcome_or_second_rejection() {
        for src in [
            r#"(test "t" (malformed "(" "x") (value 1))"#,
            r#"(test "t" (program 1) (malformed "(" "x"))"#,
            r#"(test "t" (rules E-Lit) (malformed "(" "x"))"#,
            r#"(test "t" (malformed "(" "x") (invalid "y" "z"))"#,
        ] {
            assert!(script(src).is_err(), "{src}");
        }
        let e = script(r#"(test "t" (malformed "(" "x") (trace "a"))"#).unwrap_err();
        assert!(e.to_string().contains("a `malformed` test has no `trace`"), "{e}");
        let e = script(r#"(test "t" (invalid "(" "x")) (test "t" (program 1) (value 1))"#).unwrap_err();
        assert!(e.to_string().contains("two tests named"), "{e}");
    }
}
