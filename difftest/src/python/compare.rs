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

use super::translate::{translate, Untranslatable};
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
    /// The reference showed an earlier run's continuation or cell
    /// (`#earlier-kN`, SPEC.md §3.2): the Python host's views of a `K` or a
    /// translated cell do not know the run showing them (§14.5).
    EarlierRun,
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
    if case.prelude {
        return Err(Untranslatable::Prelude);
    }
    let code = translate(&case.program)?;
    let before = case.before.as_ref().map(translate).transpose()?;
    Ok((code, before))
}

/// Run the reference on a case (`None`: the first run gave no value).
fn reference(case: &Case) -> Option<RunResult> {
    let r = &kont_reference::Reference;
    let options = RunOptions { trace: true };
    match &case.before {
        None => Some(r.run(&case.program, case.limits, options)),
        Some(first) => r.run_after(first, &case.program, case.limits, options),
    }
}

/// Compare the `python` engine with the reference on `case`.
pub fn check(case: &Case, worker: &mut Worker) -> PyVerdict {
    let (code, before) = match translate_case(case) {
        Ok(t) => t,
        Err(u) => return PyVerdict::Untranslatable(u),
    };
    let Some(r) = reference(case) else { return PyVerdict::Discard(PyDiscard::NoPrevious) };
    if matches!(r.outcome, Outcome::Exhausted { .. }) {
        return PyVerdict::Discard(PyDiscard::Exhausted);
    }
    if case.before.is_some() && shows_an_earlier_run(&r) {
        return PyVerdict::Discard(PyDiscard::EarlierRun);
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
    match difference(&r, &py) {
        Ok(()) => PyVerdict::Agree {
            class: if matches!(r.outcome, Outcome::Value { .. }) { PyClass::Value } else { PyClass::Error },
        },
        Err(first) => mismatch(first, Ok(py)),
    }
}

fn last_line(s: &str) -> &str {
    s.trim_end().lines().last().unwrap_or("")
}

/// The comparable projection of a reference run: outcome, output, marks, events.
pub fn project_reference(r: &RunResult) -> (String, Vec<String>, Vec<String>, Vec<String>) {
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
            Event::Mark { .. } => marks.push(e.to_string()),
            other => events.push(py_event(other).to_string()),
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

/// `Ok(())` when the runs agree, else the first difference.
pub fn difference(r: &RunResult, p: &PyRun) -> Result<(), String> {
    let (ro, rout, rmarks, rev) = project_reference(r);
    let (po, pout, pmarks, pev) = project_python(p);
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
fn py_event(e: &Event) -> Event {
    let mut e = e.clone();
    match &mut e {
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

/// Whether a two-run case's reference result shows an identity of the first run.
fn shows_an_earlier_run(r: &kont_spec::RunResult) -> bool {
    let text = |s: String| s.contains("#earlier-");
    text(r.outcome.to_string())
        || r.output.iter().any(|v| text(v.to_string()))
        || r.trace.iter().any(|e| text(e.to_string()))
}
