//! Running `.kont` scripts: every case on one engine, or on two engines that
//! must also agree with each other.

use std::path::{Path, PathBuf};

use kont_spec::script::{collect_files, Case, Rejection, Script, ScriptError};
use kont_spec::{Engine, Limits, Outcome, Resource, RunOptions, RunResult};

/// The limits corpus cases run under unless they say otherwise.
pub const CASE_LIMITS: Limits = Limits { fuel: 10_000_000, depth: 200_000, memory: Limits::DEFAULT.memory };

/// One case's verdict.
#[derive(Debug)]
pub struct CaseReport {
    pub file: PathBuf,
    pub name: String,
    pub line: u32,
    pub failures: Vec<String>,
}

impl CaseReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Load every script under `paths`.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Script>, ScriptError> {
    let mut scripts = Vec::new();
    for p in paths {
        let files = collect_files(p).map_err(|e| ScriptError {
            path: p.clone(),
            error: kont_spec::ParseError::new(Default::default(), format!("cannot read: {e}")),
        })?;
        for f in files {
            scripts.push(Script::load(&f)?);
        }
    }
    Ok(scripts)
}

/// Run one case on each engine; with two or more engines their results must
/// also agree (outcome, output, trace, fuel and memory; a depth limit is engine-specific,
/// so two `exhausted depth` outcomes agree whatever else they did; native
/// handlers spend no fuel or memory on their clauses, so those are only
/// compared between runs that counted them exactly).
pub fn run_case(file: &Path, case: &Case, engines: &[&dyn Engine]) -> CaseReport {
    run_case_with(file, case, engines, CASE_LIMITS)
}

/// `run_case` with other defaults for the limits the case does not set.
pub fn run_case_with(file: &Path, case: &Case, engines: &[&dyn Engine], defaults: Limits) -> CaseReport {
    let limits = case.limits(defaults);
    let options = RunOptions { trace: true };
    let mut failures = Vec::new();
    let mut results: Vec<(&str, RunResult)> = Vec::new();
    for e in engines {
        let r = match &case.before {
            None => e.run(&case.program, limits, options),
            Some((first, _)) => match e.run_after(first, &case.program, limits, options) {
                Some(r) => r,
                None => {
                    failures.push(format!("[{}] the `before` program did not return a value", e.name()));
                    continue;
                }
            },
        };
        for f in case.failures(&r) {
            failures.push(if engines.len() > 1 { format!("[{}] {f}", e.name()) } else { f });
        }
        results.push((e.name(), r));
    }
    if let Some(((n0, r0), rest)) = results.split_first() {
        for (n1, r1) in rest {
            if let Some(diff) = disagreement(r0, r1) {
                failures.push(format!("{n0} and {n1} disagree: {diff}"));
            }
        }
    }
    CaseReport { file: file.to_path_buf(), name: case.name.clone(), line: case.pos.line, failures }
}

/// Check a text that must be rejected (`malformed` / `invalid`); no engine runs.
pub fn check_rejection(file: &Path, r: &Rejection) -> CaseReport {
    CaseReport { file: file.to_path_buf(), name: r.name.clone(), line: r.pos.line, failures: r.failures() }
}

/// Every case and rejection of `script`, in file order.
pub fn run_script(script: &Script, engines: &[&dyn Engine]) -> Vec<CaseReport> {
    run_script_with(script, engines, CASE_LIMITS)
}

/// `run_script` with other defaults for the limits cases do not set.
pub fn run_script_with(script: &Script, engines: &[&dyn Engine], defaults: Limits) -> Vec<CaseReport> {
    let mut reports: Vec<CaseReport> =
        script.cases.iter().map(|c| run_case_with(&script.path, c, engines, defaults)).collect();
    reports.extend(script.rejections.iter().map(|r| check_rejection(&script.path, r)));
    reports.sort_by_key(|r| r.line);
    reports
}

/// How two runs of the same program differ, if they do.
pub fn disagreement(a: &RunResult, b: &RunResult) -> Option<String> {
    let depth = Outcome::Exhausted { resource: Resource::Depth };
    if a.outcome == depth && b.outcome == depth {
        return None;
    }
    let fuel = Outcome::Exhausted { resource: Resource::Fuel };
    let memory = Outcome::Exhausted { resource: Resource::Memory };
    if !a.fuel_comparable(b) && [fuel, memory].iter().any(|x| &a.outcome == x || &b.outcome == x) {
        return None;
    }
    if a.outcome != b.outcome {
        return Some(format!("outcome {} vs {}", a.outcome, b.outcome));
    }
    if a.output != b.output {
        return Some(format!("output {:?} vs {:?}", a.output, b.output));
    }
    if let Some(i) = (0..a.trace.len().max(b.trace.len())).find(|&i| a.trace.get(i) != b.trace.get(i)) {
        let show = |t: &[kont_spec::Event]| t.get(i).map_or("<end>".to_string(), |e| e.to_string());
        return Some(format!("trace event {}: {} vs {}", i + 1, show(&a.trace), show(&b.trace)));
    }
    if a.fuel_comparable(b) && a.steps != b.steps {
        return Some(format!("fuel {} vs {}", a.steps, b.steps));
    }
    if a.fuel_comparable(b) && a.memory != b.memory {
        return Some(format!("memory {} vs {}", a.memory, b.memory));
    }
    None
}
