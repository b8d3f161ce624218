//! A campaign of the `doeff` engine: the generator's cases on doeff 0.8.0,
//! one worker per job, run to the end. The first unexpected difference of
//! each kind is shrunk on the kont side and saved as a self-contained Python
//! file that reproduces it against `pip install doeff==0.8.0`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kont_spec::syntax::print_program;
use kont_spec::Program;

use super::doeff::{check, worker, DoeffCounts, DoeffDiff, DoeffVerdict, Unexpected, SHIM};
use super::translate::{py_str, RUNTIME};
use super::worker::Worker;
use crate::campaign::case_at;
use crate::gen::Case;
use crate::shrink::shrink;

pub struct DoeffConfig<'a> {
    pub cases: u64,
    pub seed: u64,
    pub jobs: usize,
    /// The doeff venv's interpreter.
    pub python: PathBuf,
    pub timeout: Duration,
    /// Where the reproducers are saved.
    pub save: PathBuf,
    /// Shrinking attempts per unexpected kind.
    pub shrink_budget: usize,
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// One unexpected kind's first case, shrunk and saved.
pub struct DoeffFound {
    pub kind: Unexpected,
    pub index: u64,
    pub original: Program,
    pub shrunk: Program,
    pub diff: DoeffDiff,
    pub saved: Result<PathBuf, String>,
}

pub struct DoeffReport {
    pub seed: u64,
    pub counts: DoeffCounts,
    pub elapsed: Duration,
    pub found: Vec<DoeffFound>,
}

impl DoeffReport {
    pub fn programs_per_second(&self) -> f64 {
        self.counts.run as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Per unexpected kind and class: the first case's index, the case, its difference.
type Firsts = BTreeMap<(Unexpected, String), (u64, Case, DoeffDiff)>;

/// Run a doeff campaign to its end.
pub fn run(config: &DoeffConfig<'_>) -> Result<DoeffReport, String> {
    let start = Instant::now();
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let totals = Mutex::new(DoeffCounts::default());
    // The first case of each unexpected kind and class.
    let firsts: Mutex<Firsts> = Mutex::new(BTreeMap::new());
    let failed: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..config.jobs.max(1) {
            scope.spawn(|| {
                let mut w = match worker(&config.python, config.timeout) {
                    Ok(w) => w,
                    Err(e) => {
                        *failed.lock().unwrap() = Some(format!("cannot start doeff's Python: {e}"));
                        return;
                    }
                };
                let mut counts = DoeffCounts::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= config.cases {
                        break;
                    }
                    let case = case_at(config.seed, i);
                    let v = check(&case, &mut w);
                    counts.count(&v);
                    if let DoeffVerdict::Unexpected(kind, d) = &v {
                        let mut f = firsts.lock().unwrap();
                        let key = (*kind, d.class.clone());
                        if f.get(&key).is_none_or(|(j, _, _)| i < *j) && (f.len() < MAX_CLASSES || f.contains_key(&key))
                        {
                            f.insert(key, (i, case, (**d).clone()));
                        }
                    }
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Some(p) = config.progress {
                        if d.is_multiple_of(16) {
                            p(d);
                        }
                    }
                }
                totals.lock().unwrap().add(&counts);
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap() {
        return Err(e);
    }
    let elapsed = start.elapsed();
    let counts = totals.into_inner().unwrap();
    let mut found = Vec::new();
    let firsts = firsts.into_inner().unwrap();
    if !firsts.is_empty() {
        let mut w = worker(&config.python, config.timeout).map_err(|e| format!("cannot start doeff's Python: {e}"))?;
        for ((kind, class), (index, case, first_diff)) in firsts {
            // A hang costs a timeout per attempt: few attempts.
            let budget = if kind == Unexpected::Hang { config.shrink_budget / 20 } else { config.shrink_budget };
            let shrunk = shrink_case(&case, kind, &class, budget, &mut w);
            let small = Case { program: shrunk.clone(), ..case.clone() };
            let (small, diff) = match check(&small, &mut w) {
                DoeffVerdict::Unexpected(_, d) => (small, *d),
                // Not again: doeff is not deterministic here (garbage-collection timing, say).
                _ => {
                    let first = format!("{} (did not happen again on a re-run: not deterministic)", first_diff.first);
                    (case.clone(), DoeffDiff { first, ..first_diff })
                }
            };
            let shrunk = small.program.clone();
            let saved = save(&config.save, kind, &small, &diff);
            found.push(DoeffFound { kind, index, original: case.program, shrunk, diff, saved });
        }
    }
    Ok(DoeffReport { seed: config.seed, counts, elapsed, found })
}

/// Shrink a case's program while doeff still differs from the reference unexpectedly, in the same way.
pub fn shrink_case(case: &Case, kind: Unexpected, class: &str, budget: usize, w: &mut Worker) -> Program {
    shrink(&case.program, budget, |p| {
        let c = Case { program: p.clone(), ..case.clone() };
        matches!(check(&c, w), DoeffVerdict::Unexpected(k, d) if k == kind && d.class == class)
    })
}

/// Most divergence classes reproduced (each costs a shrink).
const MAX_CLASSES: usize = 16;

/// A self-contained reproducer: kont's API on doeff, the runtime, the
/// translation, and a main that prints the outcome and output next to what
/// SPEC.md says (the reference's).
pub fn reproducer(kind: Unexpected, program: &Program, before: Option<&Program>, d: &DoeffDiff) -> String {
    let mut text = format!(
        "# Found by `kont difftest --engine doeff` ({}): {}\n# Run: pip install doeff==0.8.0 && python this-file.py\n#\n# The kont program:\n",
        kind.name(),
        d.first
    );
    if let Some(b) = before {
        text.push_str("# (first run, its value is `prev`:)\n");
        text.extend(print_program(b).lines().map(|l| format!("#   {l}\n")));
    }
    text.extend(print_program(program).lines().map(|l| format!("#   {l}\n")));
    text.push_str(&format!("#\n# SPEC.md (the reference): {}\n", d.reference.0));
    if !d.reference.1.is_empty() {
        text.push_str(&format!("#   output/marks: {:?}\n", d.reference.1));
    }
    match &d.doeff {
        Ok(p) => text.push_str(&format!("# doeff 0.8.0: {} {}\n#   output: {:?}\n", p.outcome, p.value, p.output)),
        Err(e) => {
            let e: String = e.lines().take(3).collect::<Vec<_>>().join(" | ");
            text.push_str(&format!("# doeff 0.8.0: {e}\n"))
        }
    }
    text.push_str("\n# ---- kont's Python API on doeff ----\n");
    text.push_str(SHIM);
    text.push_str("\n# ---- the translation runtime ----\n");
    text.push_str(RUNTIME);
    text.push_str("\n\n# ---- the program ----\n");
    text.push_str(&d.translation);
    text.push_str("\n\nif __name__ == \"__main__\":\n    import json\n");
    match &d.before {
        None => text.push_str("    print(json.dumps(run_main(main)[0]))\n"),
        Some(b) => {
            text.push_str(&format!("    _first = {}\n", py_str(b)));
            text.push_str(
                "    _fns = dict(globals())\n    exec(_first, _fns)\n    _, prev = run_main(_fns[\"main\"])\n",
            );
            text.push_str("    print(json.dumps(run_main(main, foreign=(prev,))[0]))\n");
        }
    }
    text
}

/// Save a reproducer as `<dir>/doeff-<kind>-<hash>.py`.
pub fn save(dir: &Path, kind: Unexpected, case: &Case, d: &DoeffDiff) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let text = reproducer(kind, &case.program, case.before.as_ref(), d);
    let hash = crate::campaign::short_hash(&print_program(&case.program));
    let name = kind.name().replace(' ', "-");
    let path = dir.join(format!("doeff-{name}-{hash}.py"));
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
