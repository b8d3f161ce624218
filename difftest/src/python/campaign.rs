//! `kont difftest --engine python`: the generator's cases, translated to
//! Python and run on kont's Python package (one persistent interpreter per
//! worker thread), against the reference. The first mismatch is shrunk on
//! the kont side and saved with its Python translation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kont_spec::syntax::print_program;
use kont_spec::Program;

use super::compare::{check, translate_case, PyClass, PyDiscard, PyMismatch, PyVerdict};
use super::translate::{standalone, Untranslatable};
use super::worker::Worker;
use crate::campaign::{case_at, case_seed};
use crate::gen::{Case, Features};
use crate::shrink::shrink;

#[derive(Clone, Debug, Default)]
pub struct PyCounts {
    pub run: u64,
    pub translated: u64,
    pub untranslated: BTreeMap<Untranslatable, u64>,
    pub values: u64,
    pub errors: u64,
    pub discard_exhausted: u64,
    pub discard_no_previous: u64,
    pub mismatches: u64,
}

impl PyCounts {
    fn add(&mut self, o: &PyCounts) {
        self.run += o.run;
        self.translated += o.translated;
        for (k, v) in &o.untranslated {
            *self.untranslated.entry(*k).or_default() += v;
        }
        self.values += o.values;
        self.errors += o.errors;
        self.discard_exhausted += o.discard_exhausted;
        self.discard_no_previous += o.discard_no_previous;
        self.mismatches += o.mismatches;
    }

    /// Count one verdict.
    pub fn count(&mut self, v: &PyVerdict) {
        self.run += 1;
        match v {
            PyVerdict::Untranslatable(u) => *self.untranslated.entry(*u).or_default() += 1,
            other => {
                self.translated += 1;
                match other {
                    PyVerdict::Agree { class } => match class {
                        PyClass::Value => self.values += 1,
                        PyClass::Error => self.errors += 1,
                    },
                    PyVerdict::Discard(PyDiscard::Exhausted) => self.discard_exhausted += 1,
                    PyVerdict::Discard(PyDiscard::NoPrevious) => self.discard_no_previous += 1,
                    PyVerdict::Mismatch(_) => self.mismatches += 1,
                    PyVerdict::Untranslatable(_) => unreachable!(),
                }
            }
        }
    }
}

/// The generator's features, by name.
pub fn features(f: &Features) -> [(&'static str, bool); 20] {
    [
        ("handlers", f.handlers),
        ("non_tail", f.non_tail),
        ("transfer", f.transfer),
        ("throw", f.throw),
        ("pass", f.pass),
        ("reperform", f.reperform),
        ("abandon", f.abandon),
        ("filters", f.filters),
        ("intercepts", f.intercepts),
        ("observers", f.observers),
        ("try_catch", f.try_catch),
        ("finally", f.finally),
        ("cells", f.cells),
        ("stored", f.stored),
        ("new_cont", f.new_cont),
        ("functions", f.functions),
        ("loops", f.loops),
        ("emit", f.emit),
        ("violations", f.violations),
        ("concurrency", f.concurrency),
    ]
}

/// Per feature: programs that had it on, and how many of those translated.
#[derive(Clone, Debug, Default)]
pub struct FeatureCoverage(pub BTreeMap<&'static str, (u64, u64)>);

impl FeatureCoverage {
    fn count(&mut self, f: &Features, translated: bool) {
        for (name, on) in features(f) {
            if on {
                let e = self.0.entry(name).or_default();
                e.0 += 1;
                e.1 += translated as u64;
            }
        }
    }

    fn add(&mut self, o: &FeatureCoverage) {
        for (k, (a, b)) in &o.0 {
            let e = self.0.entry(k).or_default();
            e.0 += a;
            e.1 += b;
        }
    }
}

pub struct PyFound {
    pub index: u64,
    pub seed: u64,
    pub original: Program,
    pub shrunk: Program,
    pub before: Option<Program>,
    pub mismatch: PyMismatch,
    /// The saved `.kont` case and its `.py` translation.
    pub saved: Option<Result<(PathBuf, PathBuf), String>>,
}

pub struct PyReport {
    pub seed: u64,
    pub counts: PyCounts,
    pub features: FeatureCoverage,
    pub elapsed: Duration,
    pub found: Option<PyFound>,
}

impl PyReport {
    pub fn programs_per_second(&self) -> f64 {
        self.counts.run as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

pub struct PyConfig<'a> {
    pub cases: u64,
    pub seed: u64,
    pub jobs: usize,
    /// Where a found mismatch is saved (`.kont` and `.py`).
    pub save: PathBuf,
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// Run a campaign of the `python` engine.
pub fn run(config: &PyConfig<'_>) -> Result<PyReport, String> {
    let start = Instant::now();
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let first_bad: Mutex<Option<(u64, Case, PyMismatch)>> = Mutex::new(None);
    let totals = Mutex::new((PyCounts::default(), FeatureCoverage::default()));
    let failed: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..config.jobs.max(1) {
            scope.spawn(|| {
                let mut worker = match Worker::start() {
                    Ok(w) => w,
                    Err(e) => {
                        *failed.lock().unwrap() = Some(format!("cannot start Python: {e}"));
                        stop.store(true, Ordering::Relaxed);
                        return;
                    }
                };
                let mut counts = PyCounts::default();
                let mut cov = FeatureCoverage::default();
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= config.cases {
                        break;
                    }
                    let case = case_at(config.seed, i);
                    let v = check(&case, &mut worker);
                    counts.count(&v);
                    cov.count(&case.features, !matches!(v, PyVerdict::Untranslatable(_)));
                    if let PyVerdict::Mismatch(m) = v {
                        let mut bad = first_bad.lock().unwrap();
                        if bad.as_ref().is_none_or(|(j, _, _)| i < *j) {
                            *bad = Some((i, case, *m));
                        }
                        stop.store(true, Ordering::Relaxed);
                    }
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Some(p) = config.progress {
                        if d.is_multiple_of(64) {
                            p(d);
                        }
                    }
                }
                let mut t = totals.lock().unwrap();
                t.0.add(&counts);
                t.1.add(&cov);
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap() {
        return Err(e);
    }
    let elapsed = start.elapsed();
    let (counts, features) = totals.into_inner().unwrap();
    let found = match first_bad.into_inner().unwrap() {
        None => None,
        Some((index, case, mismatch)) => {
            let mut worker = Worker::start().map_err(|e| format!("cannot start Python: {e}"))?;
            let shrunk = shrink_case(&case, &mut worker);
            let small = Case { program: shrunk.clone(), ..case.clone() };
            let mismatch = match check(&small, &mut worker) {
                PyVerdict::Mismatch(m) => *m,
                _ => mismatch,
            };
            let saved = Some(save(&config.save, &small, &mismatch));
            Some(PyFound {
                index,
                seed: case_seed(config.seed, index),
                original: case.program,
                shrunk,
                before: case.before,
                mismatch,
                saved,
            })
        }
    };
    Ok(PyReport { seed: config.seed, counts, features, elapsed, found })
}

/// Shrink a case's program while the Python engine still disagrees with the reference.
pub fn shrink_case(case: &Case, worker: &mut Worker) -> Program {
    shrink(&case.program, 3_000, |p| {
        let c = Case { program: p.clone(), ..case.clone() };
        matches!(check(&c, worker), PyVerdict::Mismatch(_))
    })
}

/// Save a mismatch: `<hash>.kont` (the reference's behaviour asserted) and
/// `<hash>.py` (the translation, runnable on its own: `python <hash>.py`).
pub fn save(dir: &Path, case: &Case, m: &PyMismatch) -> Result<(PathBuf, PathBuf), String> {
    let kont = crate::campaign::save(dir, &case.program, case.before.as_ref(), case, &kont_reference::Reference)
        .map_err(|e| e.to_string())?;
    let py = kont.with_extension("py");
    let mut text = format!(
        "# Found by `kont difftest --engine python`: {}\n# The kont program:\n{}\n",
        m.first,
        print_program(&case.program).lines().map(|l| format!("#   {l}\n")).collect::<String>()
    );
    text.push_str(&standalone(&m.translation, m.before.as_deref()));
    std::fs::write(&py, text).map_err(|e| format!("{}: {e}", py.display()))?;
    Ok((kont, py))
}

/// Whether `case` translates (for coverage counts without running).
pub fn translates(case: &Case) -> Result<(), Untranslatable> {
    translate_case(case).map(|_| ())
}

/// The corpus through the `python` engine.
#[derive(Debug, Default)]
pub struct CorpusRoundTrip {
    pub cases: u64,
    pub counts: PyCounts,
    /// `file:line name: difference` for each disagreement.
    pub failures: Vec<String>,
}

/// Every corpus case under `dir` translated, run on Python and compared with the reference.
pub fn corpus_round_trip(dir: &Path, worker: &mut Worker) -> Result<CorpusRoundTrip, String> {
    let scripts = crate::corpus::load(&[dir.to_path_buf()]).map_err(|e| e.to_string())?;
    let mut out = CorpusRoundTrip::default();
    for s in &scripts {
        for c in &s.cases {
            out.cases += 1;
            let case = super::compare::corpus_case(c, c.limits(crate::corpus::CASE_LIMITS));
            let v = check(&case, worker);
            if let PyVerdict::Mismatch(m) = &v {
                out.failures.push(format!("{}:{} {}: {}", s.path.display(), c.pos.line, c.name, m.first));
            }
            out.counts.count(&v);
        }
    }
    Ok(out)
}
