//! `kont difftest --engine doeff`: the `python` engine's translations run on
//! doeff 0.8.0 (through `doeff_kont.py`, kont's Python API as the
//! translations use it, written on doeff), against the reference on the
//! original program. Compared: the outcome, the output and the marks (doeff
//! has no trace projection: SPEC.md §11 item 11). Each difference is
//! **expected** — recognised by a rule below that names the §11 item — or
//! **unexpected**, by kind. A doeff crash, hang or timeout is a result: the
//! worker is restarted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kont_spec::ast::{ExprKind, InterceptKind, ResumeMode};
use kont_spec::{ContId, Event, Outcome, RunResult};

use super::compare::{reference_run, translate_case};
use super::translate::{nondirect_escapes, Untranslatable, RUNTIME};
use super::worker::{PyRun, Reply, Worker, WorkerSpec, DIED, TIMED_OUT, WORKER};
use crate::gen::Case;

/// The doeff release the engine runs.
pub const DOEFF: &str = "doeff==0.8.0";

/// kont's Python API on doeff (a module named `kont`).
pub const SHIM: &str = include_str!("doeff_kont.py");

/// How long one program may run on doeff by default.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The interpreter of the virtual environment `dir`, with doeff 0.8.0
/// installed (`python3 -m venv` and `pip install doeff==0.8.0` when missing).
pub fn ensure_venv(dir: &Path) -> Result<PathBuf, String> {
    let py = dir.join("bin/python");
    if doeff_version(&py).as_deref() == Ok("0.8.0") {
        return Ok(py);
    }
    if !py.exists() {
        let host = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        run(Command::new(&host).args(["-m", "venv"]).arg(dir), "create the virtual environment")?;
    }
    run(
        Command::new(&py).args(["-m", "pip", "install", "-q", "--disable-pip-version-check", DOEFF]),
        &format!("pip install {DOEFF}"),
    )?;
    match doeff_version(&py) {
        Ok(v) if v == "0.8.0" => Ok(py),
        Ok(v) => Err(format!("{}: doeff {v} is installed, not 0.8.0", dir.display())),
        Err(e) => Err(e),
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    match cmd.output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!("cannot {what}: {}", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!("cannot {what}: {e}")),
    }
}

fn doeff_version(py: &Path) -> Result<String, String> {
    let o = Command::new(py)
        .args(["-c", "import importlib.metadata as m, doeff; print(m.version('doeff'))"])
        .output()
        .map_err(|e| format!("{}: {e}", py.display()))?;
    if !o.status.success() {
        return Err(format!("{}: import doeff failed", py.display()));
    }
    Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// A worker running translations on doeff (its stderr dropped: doeff prints
/// tracebacks and aborts there).
pub fn worker(python: &Path, timeout: Duration) -> std::io::Result<Worker> {
    Worker::start_with(WorkerSpec {
        python: python.to_path_buf(),
        source: format!("{SHIM}\n{RUNTIME}\n{WORKER}"),
        timeout,
        quiet: true,
    })
}

/// Why a program is not run on doeff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DoeffSkip {
    /// Not translated to Python at all.
    Python(Untranslatable),
    /// `with-intercept`: doeff 0.8.0 removed `WithIntercept` (§11 item 5).
    Intercept,
    /// `with-observe`: doeff's observers are synchronous and effect-free;
    /// kont's run programs (§11 item 5).
    Observe,
    /// `new-cont`: doeff has no user-visible unstarted continuations (§11 item 9).
    NewCont,
    /// The standard prelude: doeff's scheduler is a runtime built-in with
    /// other ids, no virtual clock and its own close-out (§11 item 14); not mapped.
    Scheduler,
}

impl DoeffSkip {
    pub fn name(self) -> String {
        match self {
            DoeffSkip::Python(u) => format!("not translated: {u}"),
            DoeffSkip::Intercept => "with-intercept (removed in doeff 0.8.0, §11.5)".into(),
            DoeffSkip::Observe => "with-observe (doeff observers run no programs, §11.5)".into(),
            DoeffSkip::NewCont => "new-cont (no unstarted continuations in doeff, §11.9)".into(),
            DoeffSkip::Scheduler => "standard prelude scheduler (doeff's is built in, §11.14)".into(),
        }
    }
}

/// A §11 item that explains a difference, and the rule that recognised it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Expected {
    /// §11.1: the reference raised a catchable `one-shot` error; doeff aborts the run.
    OneShot,
    /// §11.2 / §11.18: a continuation of another run; doeff attaches it or reports `attach_chain`.
    Stale,
    /// §11.3: a clause raised while owning its `k`; doeff throws the error into `k`.
    ClauseRaises,
    /// §11.4 / §11.17: a continuation was abandoned around a `finally`;
    /// doeff finalises the abandoned generators (when the last reference dies).
    Abandonment,
    /// §11.7: a transfer or pass outside its clause's own body (doeff's quirk Q1).
    HelperEscape,
    /// §11.10: an unhandled effect; doeff's `UnhandledEffect` message names it otherwise.
    Unhandled,
}

impl Expected {
    pub const ALL: &'static [Expected] = &[
        Expected::OneShot,
        Expected::Stale,
        Expected::ClauseRaises,
        Expected::Abandonment,
        Expected::HelperEscape,
        Expected::Unhandled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Expected::OneShot => "§11.1 one-shot violation is a catchable error",
            Expected::Stale => "§11.2/§11.18 a continuation of another run is stale",
            Expected::ClauseRaises => "§11.3 a clause that raises while owning k",
            Expected::Abandonment => "§11.4/§11.17 abandonment runs nothing",
            Expected::HelperEscape => "§11.7 transfer/pass leave the nearest clause activation",
            Expected::Unhandled => "§11.10 unhandled effects are catchable `unhandled` errors",
        }
    }
}

/// What kind of unexpected difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unexpected {
    /// Both gave values, different ones.
    WrongValue,
    /// Both raised, different errors.
    WrongError,
    /// The reference gave a value, doeff raised.
    ErrorInsteadOfValue,
    /// The reference raised, doeff gave a value.
    ValueInsteadOfError,
    /// Same outcome, different output (or marks).
    Output,
    /// The doeff worker died (a segfault, an abort).
    Crash,
    /// No answer within the timeout.
    Hang,
}

impl Unexpected {
    pub fn name(self) -> &'static str {
        match self {
            Unexpected::WrongValue => "wrong value",
            Unexpected::WrongError => "wrong error",
            Unexpected::ErrorInsteadOfValue => "error instead of a value",
            Unexpected::ValueInsteadOfError => "value instead of an error",
            Unexpected::Output => "output",
            Unexpected::Crash => "crash",
            Unexpected::Hang => "hang",
        }
    }
}

#[derive(Clone, Debug)]
pub enum DoeffVerdict {
    Agree,
    /// The reference ran out of fuel or depth, or the first run gave no value.
    Discard,
    Skip(DoeffSkip),
    Expected(Expected),
    Unexpected(Unexpected, Box<DoeffDiff>),
}

/// An unexpected difference: both sides, and the translation that showed it.
#[derive(Clone, Debug)]
pub struct DoeffDiff {
    /// The divergence class within its kind: doeff's error with quoted
    /// names and numbers left out (one reproducer is saved per class).
    pub class: String,
    pub first: String,
    pub reference: (String, Vec<String>),
    pub doeff: Result<PyRun, String>,
    pub translation: String,
    pub before: Option<String>,
}

/// Whether `case` is run on doeff, or why not.
pub fn doeff_translation(case: &Case) -> Result<(String, Option<String>), DoeffSkip> {
    if case.prelude {
        return Err(DoeffSkip::Scheduler);
    }
    let mut skip = None;
    let mut check = |e: &kont_spec::Expr| match &e.kind {
        ExprKind::WithIntercept(i) if i.kind == InterceptKind::Intercept => skip = skip.or(Some(DoeffSkip::Intercept)),
        ExprKind::WithIntercept(_) => skip = skip.or(Some(DoeffSkip::Observe)),
        ExprKind::NewCont { .. } => skip = skip.or(Some(DoeffSkip::NewCont)),
        _ => {}
    };
    case.program.body.walk(&mut check);
    if let Some(b) = &case.before {
        b.body.walk(&mut check);
    }
    if let Some(s) = skip {
        return Err(s);
    }
    translate_case(case).map_err(DoeffSkip::Python)
}

/// Run `case` on doeff and classify the difference from the reference.
pub fn check(case: &Case, worker: &mut Worker) -> DoeffVerdict {
    let (code, before) = match doeff_translation(case) {
        Ok(t) => t,
        Err(s) => return DoeffVerdict::Skip(s),
    };
    let Some(r) = reference_run(case) else { return DoeffVerdict::Discard };
    if matches!(r.outcome, Outcome::Exhausted { .. }) {
        return DoeffVerdict::Discard;
    }
    let reply = worker.run(&code, before.as_deref(), 0);
    let (ro, rout) = reference_projection(&r);
    let unexpected = |kind: Unexpected, first: String, doeff: Result<PyRun, String>| {
        let class = match &doeff {
            Ok(p) if p.outcome == "error" => signature(&p.value),
            Ok(_) => String::new(),
            Err(e) => signature(e.lines().next().unwrap_or("")),
        };
        DoeffVerdict::Unexpected(
            kind,
            Box::new(DoeffDiff {
                class,
                first,
                reference: (ro.clone(), rout.clone()),
                doeff,
                translation: code.clone(),
                before: before.clone(),
            }),
        )
    };
    let (po, pout, text) = match &reply {
        Reply::Ran(p) => {
            let o = normalize(&format!("{} {}", p.outcome, p.value));
            let mut out: Vec<String> = p.output.iter().map(|x| normalize(x)).collect();
            out.extend(p.marks.iter().cloned());
            let text = format!("{o} {}", out.join(" "));
            (o, out, text)
        }
        Reply::NoPrevious => ("no first value".into(), Vec::new(), "no first value".into()),
        Reply::Crash(c) => (String::new(), Vec::new(), c.clone()),
    };
    if matches!(reply, Reply::Ran(_)) && po == ro && pout == rout {
        return DoeffVerdict::Agree;
    }
    if let Some(e) = expected(case, &r, &ro, &rout, &text) {
        return DoeffVerdict::Expected(e);
    }
    match reply {
        Reply::Crash(c) if c.starts_with(TIMED_OUT) => unexpected(Unexpected::Hang, c.clone(), Err(c)),
        Reply::Crash(c) if c.starts_with(DIED) => unexpected(Unexpected::Crash, c.clone(), Err(c)),
        Reply::Crash(c) => {
            let last = c.trim_end().lines().last().unwrap_or("").to_string();
            unexpected(Unexpected::Crash, format!("the worker raised: {last}"), Err(c))
        }
        Reply::NoPrevious => unexpected(
            Unexpected::ErrorInsteadOfValue,
            "doeff: the first run gave no value".into(),
            Err("no first value".into()),
        ),
        Reply::Ran(p) => {
            let (rv, pv) = (ro.starts_with("value "), po.starts_with("value "));
            let kind = if po != ro {
                match (rv, pv) {
                    (true, true) => Unexpected::WrongValue,
                    (false, false) => Unexpected::WrongError,
                    (true, false) => Unexpected::ErrorInsteadOfValue,
                    (false, true) => Unexpected::ValueInsteadOfError,
                }
            } else {
                Unexpected::Output
            };
            let first = if po != ro {
                format!("outcome: reference `{ro}`, doeff `{po}`")
            } else {
                format!("output: reference {rout:?}, doeff {pout:?}")
            };
            unexpected(kind, first, Ok(p))
        }
    }
}

/// A doeff error's class: its text without quoted parts and numbers.
fn signature(text: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' => {
                quote = Some(c);
                out.push_str("'_'");
            }
            None if c.is_ascii_digit() => {
                if !out.ends_with('N') {
                    out.push('N');
                }
            }
            None => out.push(c),
        }
    }
    out.chars().take(160).collect()
}

/// The reference's outcome and output (marks appended), as compared with doeff's.
fn reference_projection(r: &RunResult) -> (String, Vec<String>) {
    let o = match &r.outcome {
        Outcome::Value { value } => format!("value {value}"),
        Outcome::Error { error, .. } => format!("error {error}"),
        Outcome::Exhausted { resource } => format!("exhausted {}", resource.name()),
    };
    let mut out: Vec<String> = r.output.iter().map(|v| normalize(&v.to_string())).collect();
    out.extend(r.trace.iter().filter(|e| matches!(e, Event::Mark { .. })).map(|e| e.to_string()));
    (normalize(&o), out)
}

/// Continuation ids left out (doeff's `K` has none: §11 item 11): `#k3` is `#k`.
fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("#k") {
        out.push_str(&rest[..i + 2]);
        rest = rest[i + 2..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// The §11 item that explains a difference on `case`, if a rule recognises one.
/// `doeff` is the text of doeff's answer (outcome and output, or the crash).
fn expected(case: &Case, r: &RunResult, ro: &str, rout: &[String], doeff: &str) -> Option<Expected> {
    let events: Vec<String> = r.trace.iter().map(|e| e.to_string()).collect();
    let mentions = |tag: &str| {
        let needle = format!("(error \"{tag}\"");
        ro.contains(&needle) || rout.iter().any(|o| o.contains(&needle)) || events.iter().any(|e| e.contains(&needle))
    };
    // §11.1: the reference raised a one-shot error somewhere; doeff aborts the whole run instead.
    if mentions("one-shot") {
        return Some(Expected::OneShot);
    }
    // §11.2: a continuation of the first run used in the second.
    if case.before.is_some() && mentions("stale") {
        return Some(Expected::Stale);
    }
    // §11.10: an unhandled effect on both sides, named differently.
    if mentions("unhandled") && (doeff.contains("unhandled") || doeff.contains("no handler found")) {
        return Some(Expected::Unhandled);
    }
    let (raised_owning, abandoned) = clause_ends(&r.trace);
    // §11.3: a clause raised while it still owned its k.
    if raised_owning {
        return Some(Expected::ClauseRaises);
    }
    // §11.4: a continuation was abandoned and the program has a finally
    // (doeff closes the abandoned generators, running their cleanups).
    let mut finally = false;
    case.program.body.walk(&mut |e| {
        if let ExprKind::Try(t) = &e.kind {
            finally |= t.finally.is_some();
        }
    });
    if abandoned && finally {
        return Some(Expected::Abandonment);
    }
    // §11.7: a transfer or pass written in a function (a helper generator
    // in Python: doeff's Transfer pops only that frame) or outside a clause.
    if escape_in_function(&case.program.body, false) || nondirect_escapes(&case.program) {
        return Some(Expected::HelperEscape);
    }
    None
}

/// Whether a transfer or pass is written inside a function's body.
fn escape_in_function(e: &kont_spec::Expr, inside: bool) -> bool {
    kont_spec::deep::grow(|| match &e.kind {
        ExprKind::Resume { mode: ResumeMode::Transfer, .. } | ExprKind::Pass { .. } if inside => true,
        ExprKind::Fn(l) => escape_in_function(&l.body, true),
        ExprKind::Letrec { funs, body } => {
            funs.iter().any(|f| escape_in_function(&f.lambda.body, true)) || escape_in_function(body, inside)
        }
        _ => e.children().into_iter().any(|c| escape_in_function(c, inside)),
    })
}

/// From a reference trace: whether a clause raised while owning its k (the
/// k unused when its dispatch threw), and whether some continuation a clause
/// received was never used (abandoned).
fn clause_ends(trace: &[Event]) -> (bool, bool) {
    let mut owned: BTreeMap<u64, ContId> = BTreeMap::new();
    let mut used: std::collections::BTreeSet<ContId> = Default::default();
    let mut raised_owning = false;
    for e in trace {
        match e {
            Event::Handle { dispatch, k, .. } => {
                owned.insert(*dispatch as u64, *k);
            }
            Event::Resume { k, .. } | Event::Pass { k, .. } => {
                used.insert(*k);
            }
            Event::Threw { dispatch, .. } if owned.get(&(*dispatch as u64)).is_some_and(|k| !used.contains(k)) => {
                raised_owning = true;
            }
            _ => {}
        }
    }
    let abandoned = owned.values().any(|k| !used.contains(k));
    (raised_owning, abandoned)
}

/// A doeff campaign's counts.
#[derive(Clone, Debug, Default)]
pub struct DoeffCounts {
    pub run: u64,
    pub agree: u64,
    pub discarded: u64,
    pub skipped: BTreeMap<DoeffSkip, u64>,
    pub expected: BTreeMap<Expected, u64>,
    pub unexpected: BTreeMap<Unexpected, u64>,
}

impl DoeffCounts {
    pub fn count(&mut self, v: &DoeffVerdict) {
        self.run += 1;
        match v {
            DoeffVerdict::Agree => self.agree += 1,
            DoeffVerdict::Discard => self.discarded += 1,
            DoeffVerdict::Skip(s) => *self.skipped.entry(*s).or_default() += 1,
            DoeffVerdict::Expected(e) => *self.expected.entry(*e).or_default() += 1,
            DoeffVerdict::Unexpected(k, _) => *self.unexpected.entry(*k).or_default() += 1,
        }
    }

    pub fn add(&mut self, o: &DoeffCounts) {
        self.run += o.run;
        self.agree += o.agree;
        self.discarded += o.discarded;
        for (k, v) in &o.skipped {
            *self.skipped.entry(*k).or_default() += v;
        }
        for (k, v) in &o.expected {
            *self.expected.entry(*k).or_default() += v;
        }
        for (k, v) in &o.unexpected {
            *self.unexpected.entry(*k).or_default() += v;
        }
    }

    /// Programs that ran on doeff.
    pub fn ran(&self) -> u64 {
        self.agree + self.expected.values().sum::<u64>() + self.unexpected.values().sum::<u64>()
    }
}
