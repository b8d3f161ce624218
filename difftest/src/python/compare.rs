//! The `python` engine's oracle: a case's translation on kont's Python
//! package against the reference on the original program.
//!
//! Compared: the outcome (value or error value; error sites are not, Python
//! sites being `file:line`), the output log, the `mark` events (marks have
//! no Python API: the translation keeps them in a side list, compared in
//! order with the reference's), and the trace projection without sites,
//! without `raise`/`catch` events (Python's `try/except` is invisible to the
//! VM, so a caught raise shows no events on the Python side) and with the
//! reference's values shown as the VM shows the translation's Python values
//! (SPEC.md §14.5: a list, function or cell is a host value `#<repr>`, an
//! effect `(effect L #<v=repr>)`). Fuel is not compared (a Python step is not
//! a kont node, §14.7); a case whose reference run is exhausted is not run.

use kont_spec::{Engine, Event, Limits, Outcome, RunOptions, RunResult, ValueView};

use super::translate::{translate, translate_prelude, unwraps_prelude, Untranslatable, PRELUDE_LABELS};
use super::worker::{PyRun, Reply, Worker};
use crate::gen::Case;

/// Fuel for Python runs (generous: only the reference's limits matter).
pub const PY_FUEL: u64 = 5_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PyClass {
    Value,
    Error,
}

/// Why a translated case was not compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PyDiscard {
    /// The reference ran out of fuel or depth: Python's units differ.
    Exhausted,
    /// The first of two runs returned no value.
    NoPrevious,
}

#[derive(Clone, Debug)]
pub enum PyVerdict {
    /// Agreement.
    Agree {
        class: PyClass,
    },
    Discard(PyDiscard),
    Untranslatable(Untranslatable),
    Mismatch(Box<PyMismatch>),
}

#[derive(Clone, Debug)]
pub struct PyMismatch {
    pub first: String,
    pub reference: RunResult,
    pub python: Result<PyRun, String>,
    pub translation: String,
    pub before: Option<String>,
}

/// The translations of a case's program and of its first run.
pub fn translate_case(case: &Case) -> Result<(String, Option<String>), Untranslatable> {
    let code = if case.prelude { translate_prelude(&case.program)? } else { translate(&case.program)? };
    let before = case.before.as_ref().map(translate).transpose()?;
    Ok((code, before))
}

/// Run the reference on a case (`None`: the first run gave no value).
pub fn reference_run(case: &Case) -> Option<RunResult> {
    let r = &kont_reference::Reference;
    let options = RunOptions { trace: true };
    match &case.before {
        None => Some(r.run(&case.runnable(), case.limits, options)),
        Some(first) => r.run_after(first, &case.runnable(), case.limits, options),
    }
}

/// Compare the `python` engine with the reference on `case`.
pub fn check(case: &Case, worker: &mut Worker) -> PyVerdict {
    let (code, before) = match translate_case(case) {
        Ok(t) => t,
        Err(u) => return PyVerdict::Untranslatable(u),
    };
    let Some(r) = reference_run(case) else { return PyVerdict::Discard(PyDiscard::NoPrevious) };
    if matches!(r.outcome, Outcome::Exhausted { .. }) {
        return PyVerdict::Discard(PyDiscard::Exhausted);
    }
    let mismatch = |first: String, python: Result<PyRun, String>| {
        PyVerdict::Mismatch(Box::new(PyMismatch {
            first,
            reference: r.clone(),
            python,
            translation: code.clone(),
            before: before.clone(),
        }))
    };
    let py = match worker.run(&code, before.as_deref(), PY_FUEL) {
        Reply::Ran(p) => p,
        Reply::NoPrevious => return mismatch("python: the first run returned no value".into(), Err("no run".into())),
        Reply::Crash(c) => return mismatch(format!("python crashed: {}", last_line(&c)), Err(c)),
    };
    match difference(&r, &py, case.prelude || unwraps_prelude(&case.program)) {
        Ok(()) => PyVerdict::Agree {
            class: if matches!(r.outcome, Outcome::Value { .. }) { PyClass::Value } else { PyClass::Error },
        },
        Err(first) => mismatch(first, Ok(py)),
    }
}

fn last_line(s: &str) -> &str {
    s.trim_end().lines().last().unwrap_or("")
}

/// The standard prelude's mark tags: the VM's events on the Python side.
const PRELUDE_MARKS: &[&str] = &["run", "join", "task-end", "cancel", "spawn"];

/// The comparable projection of a reference run: outcome, output, marks, events.
pub fn project_reference(r: &RunResult) -> (String, Vec<String>, Vec<String>, Vec<String>) {
    project_reference_with(r, false)
}

/// The same for a program with the standard prelude (`prelude`): the
/// prelude's effects are kont effects, and its marks are trace events of
/// the VM's native scheduler (the translation's own marks are kept aside).
pub fn project_reference_with(r: &RunResult, prelude: bool) -> (String, Vec<String>, Vec<String>, Vec<String>) {
    let outcome = match &r.outcome {
        Outcome::Value { value } => format!("value {value}"),
        Outcome::Error { error, .. } => format!("error {error}"),
        Outcome::Exhausted { resource } => format!("exhausted {}", resource.name()),
    };
    let output = r.output.iter().map(|v| v.to_string()).collect();
    let mut marks = Vec::new();
    let mut events = Vec::new();
    for e in &r.trace {
        match e {
            Event::Raise { .. } | Event::Catch { .. } => {}
            Event::Mark { tag, .. } if prelude && PRELUDE_MARKS.contains(&tag.as_str()) => events.push(e.to_string()),
            Event::Mark { .. } => marks.push(e.to_string()),
            other => events.push(py_event(other, prelude).to_string()),
        }
    }
    (outcome, output, marks, events)
}

/// The comparable projection of a Python run.
pub fn project_python(p: &PyRun) -> (String, Vec<String>, Vec<String>, Vec<String>) {
    let outcome = format!("{} {}", p.outcome, p.value);
    let events = p
        .events
        .iter()
        .filter(|e| !e.starts_with("raise ") && !e.starts_with("catch "))
        .map(|e| {
            let e = if e.starts_with("perform ") { e.rfind(" @").map_or(e.as_str(), |i| &e[..i]) } else { e };
            unused_k(e)
        })
        .collect();
    (outcome, p.output.clone(), p.marks.clone(), events)
}

/// `Ok(())` when the runs agree, else the first difference. With the
/// standard prelude (`prelude`), values cross between Python and the
/// prelude's kont code (a task's value, a promise's, an await's: §14.8), so
/// the events are compared without the host-value wrappers (`#<…>`,
/// `#<v=…>`) on either side: the translation's values are kont's values
/// shown by their `repr`, which is kont's syntax.
pub fn difference(r: &RunResult, p: &PyRun, prelude: bool) -> Result<(), String> {
    let (ro, rout, rmarks, mut rev) = project_reference_with(r, prelude);
    let (po, pout, pmarks, mut pev) = project_python(p);
    if prelude {
        rev = rev.iter().map(|e| kont_handles(&strip_host(e))).collect();
        pev = pev.iter().map(|e| kont_handles(&strip_host(e))).collect();
    }
    match first_difference(&ro, &rout, &rmarks, &rev, &po, &pout, &pmarks, &pev) {
        None => Ok(()),
        Some(first) => Err(first),
    }
}

#[allow(clippy::too_many_arguments)]
fn first_difference(
    ro: &str,
    rout: &[String],
    rmarks: &[String],
    rev: &[String],
    po: &str,
    pout: &[String],
    pmarks: &[String],
    pev: &[String],
) -> Option<String> {
    let list = |what: &str, a: &[String], b: &[String]| {
        (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)).map(|i| {
            let show = |x: &[String]| x.get(i).cloned().unwrap_or_else(|| "<end>".into());
            format!("{what} {}: reference `{}`, python `{}`", i + 1, show(a), show(b))
        })
    };
    list("trace event", rev, pev)
        .or_else(|| (ro != po).then(|| format!("outcome: reference `{ro}`, python `{po}`")))
        .or_else(|| list("output", rout, pout))
        .or_else(|| list("mark", rmarks, pmarks))
}

/// Python's reprs of the prelude's values as kont shows them: a handle
/// (`Task(1)`) is the kont list `(list "task" 1)`, an empty Python list `(list)`.
fn kont_handles(e: &str) -> String {
    let mut out = e.replace("[]", "(list)");
    for (py, kont) in [("Task(", "task"), ("Promise(", "promise"), ("Semaphore(", "semaphore")] {
        while let Some(i) = out.find(py) {
            let digits = out[i + py.len()..].find(|c: char| !c.is_ascii_digit()).map(|n| i + py.len() + n);
            match digits {
                Some(j) if j > i + py.len() && out[j..].starts_with(')') => {
                    let id = out[i + py.len()..j].to_string();
                    out.replace_range(i..=j, &format!("(list \"{kont}\" {id})"));
                }
                _ => break,
            }
        }
    }
    out
}

/// `e` without host-value wrappers: `#<x>` and `#<v=x>` become `x` (a `>`
/// closes the innermost wrapper outside quotes and parentheses).
pub fn strip_host(e: &str) -> String {
    let mut out = String::with_capacity(e.len());
    // Per open wrapper: the parenthesis depth at its opening.
    let mut open: Vec<i32> = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut chars = e.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == '\\' {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == q {
                quote = None;
                out.push('"');
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '#' if chars.peek() == Some(&'<') => {
                chars.next();
                let rest: String = chars.clone().take(2).collect();
                if rest == "v=" {
                    chars.next();
                    chars.next();
                }
                // Python's reprs of unit and the booleans, as kont shows them.
                let word: String = chars.clone().take(6).collect();
                let mut constant = false;
                for (py, kont) in [("None>", "unit"), ("True>", "true"), ("False>", "false")] {
                    if word.starts_with(py) {
                        out.push_str(kont);
                        for _ in 0..py.len() {
                            chars.next();
                        }
                        constant = true;
                        break;
                    }
                }
                if !constant {
                    open.push(depth);
                }
            }
            '>' if open.last() == Some(&depth) => {
                open.pop();
            }
            // A Python str's repr inside a wrapper is shown with kont's quotes.
            '\'' if !open.is_empty() => {
                quote = Some(c);
                out.push('"');
            }
            '"' => {
                quote = Some(c);
                out.push(c);
            }
            '(' => {
                depth += 1;
                out.push(c);
            }
            ')' => {
                depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `K(k3, used)` as `K(k3)`: a continuation's repr inside an effect's fields says whether it is used.
fn unused_k(e: &str) -> String {
    let mut out = String::with_capacity(e.len());
    let mut rest = e;
    while let Some(i) = rest.find("K(k") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        out.push_str(&rest[..digits]);
        rest = &rest[digits..];
        if let Some(r) = rest.strip_prefix(", used)") {
            out.push(')');
            rest = r;
        }
    }
    out.push_str(rest);
    out
}

/// A reference event with its values shown as the translation's Python values are.
fn py_event(e: &Event, prelude: bool) -> Event {
    let mut e = e.clone();
    let kont_effect = |v: &ValueView| {
        prelude && matches!(v, ValueView::Effect { label, .. } if PRELUDE_LABELS.contains(&label.as_str()))
    };
    match &mut e {
        Event::Perform { effect: v, .. } | Event::Intercept { effect: v, .. } | Event::Pass { effect: v, .. }
            if kont_effect(v) => {}
        Event::Perform { effect: v, .. }
        | Event::Intercept { effect: v, .. }
        | Event::Pass { effect: v, .. }
        | Event::Return { value: v, .. }
        | Event::Threw { error: v, .. }
        | Event::Resume { value: v, .. }
        | Event::Unwind { error: v, .. } => *v = py_view(v),
        _ => {}
    }
    if let Event::Perform { site, .. } = &mut e {
        *site = 0;
    }
    e
}

/// How the VM shows the Python value a kont value is translated to (SPEC.md §14.5).
pub fn py_view(v: &ValueView) -> ValueView {
    match v {
        ValueView::List(_) | ValueView::Fn { .. } | ValueView::Cell { .. } => ValueView::Host { repr: v.to_string() },
        ValueView::Error { tag, payload } => ValueView::error(tag.clone(), py_view(payload)),
        ValueView::Effect { label, payload } => ValueView::Effect {
            label: label.clone(),
            payload: Box::new(ValueView::Host { repr: format!("v={}", py_repr(payload)) }),
        },
        other => other.clone(),
    }
}

/// Python's `repr` of the translated value (an effect's field in traces).
fn py_repr(v: &ValueView) -> String {
    match v {
        ValueView::Unit => "None".into(),
        ValueView::Bool(true) => "True".into(),
        ValueView::Bool(false) => "False".into(),
        ValueView::Int(i) => i.to_string(),
        ValueView::Str(s) => python_str_repr(s),
        ValueView::Cont { id, .. } => format!("K(k{id})"),
        other => other.to_string(),
    }
}

/// Python's `repr` of a `str`.
fn python_str_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::new();
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Limits of a corpus case, for the Python round trip.
pub fn corpus_case(case: &kont_spec::script::Case, limits: Limits) -> Case {
    Case {
        program: case.program.clone(),
        before: case.before.as_ref().map(|(p, _)| p.clone()),
        limits,
        features: Default::default(),
        prelude: false,
    }
}
