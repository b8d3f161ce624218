//! `kont difftest`: the corpus on both engines, then a campaign.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use kont_difftest::campaign::{self, Config, JsonSummary, Report, Shard};
use kont_difftest::corpus;
use kont_spec::syntax::print_program;
use kont_spec::Engine;

pub struct Args {
    pub cases: Option<u64>,
    pub seed: Option<u64>,
    pub shard: Option<String>,
    pub jobs: Option<usize>,
    pub save: bool,
    pub keep_going: bool,
    pub json: bool,
    /// List this many of the slowest programs (`vm` engine only).
    pub slowest: usize,
    pub no_corpus: bool,
    pub corpus: PathBuf,
}

pub fn run(a: Args) -> ExitCode {
    let reference: &dyn Engine = &kont_reference::Reference;
    let vm: &dyn Engine = &kont_vm::Vm;
    let shard = match a.shard.as_deref().map(Shard::parse).transpose() {
        Ok(s) => s.unwrap_or(Shard::ALL),
        Err(e) => {
            eprintln!("kont: {e}");
            return ExitCode::from(2);
        }
    };
    if shard != Shard::ALL && a.seed.is_none() {
        eprintln!("kont: `--shard` needs `--seed`: every shard must run the same campaign");
        return ExitCode::from(2);
    }
    if !a.no_corpus {
        match check_corpus(&a.corpus, reference, vm) {
            Ok((passed, 0)) => eprintln!("corpus: {passed} passed, 0 failed (both engines agree)"),
            Ok((passed, failed)) => {
                eprintln!("corpus: {passed} passed, {failed} failed");
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    let (seed, cases, jobs) = sizes(&a, 20_000);
    // Case indices `shard.index, shard.index + N, ...` below `cases`.
    let mine = cases.saturating_sub(shard.index).div_ceil(shard.count);
    if shard == Shard::ALL {
        eprintln!("campaign: {cases} programs, seed {seed}, {jobs} job(s)");
    } else {
        eprintln!("campaign: shard {shard} of {cases} programs ({mine} of them), seed {seed}, {jobs} job(s)");
    }
    let bar = progress_bar(mine);
    let tick = |done: u64| bar.set_position(done);
    let config = Config {
        cases,
        seed,
        shard,
        jobs,
        save: a.save.then(|| a.corpus.join("regressions")),
        shrink: true,
        keep_going: a.keep_going,
        progress: Some(&tick),
        slowest: a.slowest,
    };
    let report = campaign::run(&config, reference, vm);
    bar.finish_and_clear();
    print_report(&report);
    print_slowest(&report);
    if a.json {
        println!("{}", serde_json::to_string(&report.json()).expect("summary serializes"));
    }
    if report.found.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A campaign's seed (given, or from the clock), size (given, or
/// `default_cases`) and worker count (given, or one per core).
fn sizes(a: &Args, default_cases: u64) -> (u64, u64, usize) {
    let seed =
        a.seed.unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64));
    let jobs = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    (seed, a.cases.unwrap_or(default_cases), jobs)
}

/// The progress bar every campaign draws on stderr.
fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} programs  {per_sec}  eta {eta}").expect("template"),
    );
    bar
}

/// The Python and doeff campaigns are not split into shards, nor timed per program.
fn no_shards(a: &Args) -> Option<ExitCode> {
    let refused = if a.shard.is_some() {
        "--shard splits"
    } else if a.slowest > 0 {
        "--slowest times"
    } else {
        return None;
    };
    eprintln!("kont: {refused} the vm engine's campaigns only");
    Some(ExitCode::from(2))
}

fn check_corpus(dir: &PathBuf, reference: &dyn Engine, vm: &dyn Engine) -> Result<(usize, usize), String> {
    let scripts = corpus::load(std::slice::from_ref(dir)).map_err(|e| e.to_string())?;
    let (mut passed, mut failed) = (0, 0);
    for s in &scripts {
        for rep in corpus::run_script(s, &[reference, vm]) {
            if rep.passed() {
                passed += 1;
            } else {
                failed += 1;
                eprintln!("FAIL {}:{} {}", rep.file.display(), rep.line, rep.name);
                for f in &rep.failures {
                    eprintln!("  {f}");
                }
            }
        }
    }
    Ok((passed, failed))
}

/// The programs the oracle took longest on: the first place to look when a
/// campaign is slow (`--slowest N`).
fn print_slowest(r: &Report) {
    let t = &r.timing;
    let Some(first) = t.slowest.first() else { return };
    eprintln!(
        "the slowest {} programs: {:.0} % of the {:.1} s spent checking (all jobs)",
        t.slowest.len(),
        100.0 * t.slowest_share(),
        t.checking.as_secs_f64()
    );
    for s in &t.slowest {
        let kind = if s.concurrent { "concurrent" } else { "sequential" };
        eprintln!("  case {:>8}  {:>9.1} ms  {kind}, {}", s.index, s.time.as_secs_f64() * 1e3, s.class);
    }
    let (i, seed) = (first.index, r.seed);
    eprintln!("rerun one alone: kont difftest --no-corpus --seed {seed} --cases {} --shard {i}/{}", i + 1, i + 1);
    let case = campaign::case_at(seed, i);
    let prelude = if case.prelude { " (run with the std prelude)" } else { "" };
    eprintln!("the slowest, case {i}{prelude}:");
    if let Some(b) = &case.before {
        eprintln!("its first run (its value is `prev`):\n{}then:", print_program(b));
    }
    eprint!("{}", print_program(&case.program));
}

fn print_report(r: &Report) {
    let c = &r.counts;
    eprintln!(
        "campaign: {} programs ({} concurrent) in {:.1}s ({:.0} programs/s): {} values, {} errors, {} out of fuel, \
         {} depth limit (compared up to it), {} discarded (no first value), {} mismatch(es)",
        c.run,
        c.concurrent,
        r.elapsed.as_secs_f64(),
        r.programs_per_second(),
        c.values,
        c.errors,
        c.fuel,
        c.depth,
        c.discard_no_previous,
        c.mismatch_total()
    );
    if !c.mismatches.is_empty() {
        let kinds: Vec<String> = c.mismatches.iter().map(|(k, n)| format!("{k}={n}")).collect();
        eprintln!("mismatches by kind: {}", kinds.join(", "));
    }
    for (engine, unhit) in r.unhit() {
        let fired = kont_spec::Rule::ALL.len() - unhit.len();
        if unhit.is_empty() {
            eprintln!("rules ({engine}): every SPEC.md rule fired ({fired})");
        } else {
            let names: Vec<&str> = unhit.iter().map(|r| r.name()).collect();
            eprintln!("rules ({engine}): {fired} fired, never hit: {}", names.join(" "));
        }
    }
    for (engine, counts) in r.coverage.situations.engines() {
        let shown: Vec<String> = counts.named().iter().map(|(n, k)| format!("{n}={k}")).collect();
        let unseen = counts.unseen().len();
        eprintln!("situations ({engine}, programs; {unseen} never): {}", shown.join(" "));
    }
    let rare = r.rare((c.run / 100).max(1));
    if !rare.is_empty() {
        let names: Vec<String> = rare.iter().map(|(r, n)| format!("{}={n}", r.name())).collect();
        eprintln!("rules hit by under 1% of programs (reference counts): {}", names.join(" "));
    }
    if let Some(f) = &r.found {
        eprintln!("\nMISMATCH at case {} (case seed {}): {}", f.index, f.seed, f.mismatch.first);
        if let Some(b) = &f.before {
            eprintln!("first run (its value is `prev`):\n{}", print_program(b));
        }
        eprintln!(
            "shrunk program ({} nodes, from {}):\n{}",
            f.shrunk.size(),
            f.original.size(),
            print_program(&f.shrunk)
        );
        let show = |x: &Result<kont_spec::RunResult, String>| match x {
            Ok(r) => format!(
                "{}  output {:?}  fuel {}",
                r.outcome,
                r.output.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                r.steps
            ),
            Err(e) => e.clone(),
        };
        eprintln!("reference: {}", show(&f.mismatch.reference));
        eprintln!("{}: {}", f.mismatch.engine, show(&f.mismatch.vm));
        let ctx = f.mismatch.trace_context(4);
        if !ctx.is_empty() {
            eprintln!("first differing trace event, with context:\n{ctx}");
        }
        match &f.saved {
            Some(Ok(p)) => eprintln!("saved as {}", p.display()),
            Some(Err(e)) => eprintln!("could not save the regression case: {e}"),
            None => {}
        }
    }
}

/// `kont difftest --engine python`: the corpus, then a campaign, through Python.
pub fn run_python(a: Args) -> ExitCode {
    use kont_difftest::python::{campaign as py, worker};
    if let Some(refused) = no_shards(&a) {
        return refused;
    }
    if let Err(e) = worker::available() {
        eprintln!("kont: the Python engine needs kont's Python package (production/python/test.sh builds it): {e}");
        return ExitCode::from(2);
    }
    let mut bad = false;
    if !a.no_corpus {
        let rt = match worker::Worker::start()
            .map_err(|e| e.to_string())
            .and_then(|mut w| py::corpus_round_trip(&a.corpus, &mut w))
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        for f in &rt.failures {
            eprintln!("FAIL {f}");
        }
        eprintln!(
            "corpus through python: {} cases, {} translated ({} agree, {} not compared: reference exhausted), {} mismatch(es); untranslated: {}",
            rt.cases,
            rt.counts.translated,
            rt.counts.values + rt.counts.errors,
            rt.counts.discard_exhausted,
            rt.failures.len(),
            untranslated(&rt.counts)
        );
        bad |= !rt.failures.is_empty();
    }
    let (seed, cases, jobs) = sizes(&a, 20_000);
    eprintln!("campaign (python): {cases} programs, seed {seed}, {jobs} job(s), one Python worker each");
    let bar = progress_bar(cases);
    let tick = |done: u64| bar.set_position(done);
    let save = if a.save { a.corpus.join("regressions") } else { PathBuf::from("target/pydiff") };
    let config = py::PyConfig { cases, seed, jobs, save, progress: Some(&tick) };
    let r = match py::run(&config) {
        Ok(r) => r,
        Err(e) => {
            bar.finish_and_clear();
            eprintln!("kont: {e}");
            return ExitCode::from(2);
        }
    };
    bar.finish_and_clear();
    let c = &r.counts;
    eprintln!(
        "campaign (python): {} programs in {:.1}s ({:.0} programs/s): {} translated ({:.1}%), {} agree ({} values, {} errors), {} not compared ({} reference exhausted, {} no first value), {} mismatch(es)",
        c.run,
        r.elapsed.as_secs_f64(),
        r.programs_per_second(),
        c.translated,
        100.0 * c.translated as f64 / c.run.max(1) as f64,
        c.values + c.errors,
        c.values,
        c.errors,
        c.discard_exhausted + c.discard_no_previous,
        c.discard_exhausted,
        c.discard_no_previous,
        c.mismatches
    );
    eprintln!("untranslated, by reason: {}", untranslated(c));
    let feats: Vec<String> = r
        .features
        .0
        .iter()
        .map(|(name, (n, t))| format!("{name} {t}/{n} ({:.0}%)", 100.0 * *t as f64 / (*n).max(1) as f64))
        .collect();
    eprintln!("translation coverage by generator feature (translated/programs with it): {}", feats.join(", "));
    if let Some(f) = &r.found {
        bad = true;
        eprintln!("\nMISMATCH at case {} (case seed {}): {}", f.index, f.seed, f.mismatch.first);
        if let Some(b) = &f.before {
            eprintln!("first run (its value is `prev`):\n{}", print_program(b));
        }
        eprintln!(
            "shrunk program ({} nodes, from {}):\n{}",
            f.shrunk.size(),
            f.original.size(),
            print_program(&f.shrunk)
        );
        eprintln!("python translation:\n{}", f.mismatch.translation);
        let (ro, rout, _, _) = kont_difftest::python::compare::project_reference(&f.mismatch.reference);
        eprintln!("reference: {ro}  output {rout:?}");
        match &f.mismatch.python {
            Ok(p) => {
                eprintln!("python: {} {}  output {:?}\npython events: {:#?}", p.outcome, p.value, p.output, p.events)
            }
            Err(e) => eprintln!("python: {e}"),
        }
        match &f.saved {
            Some(Ok((k, p))) => eprintln!("saved as {} and {}", k.display(), p.display()),
            Some(Err(e)) => eprintln!("could not save: {e}"),
            None => {}
        }
    }
    if a.json {
        let j = serde_json::json!({
            "engine": "python",
            "seed": r.seed,
            "cases": c.run,
            "translated": c.translated,
            "untranslated": c.untranslated.iter().map(|(k, v)| (k.name(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
            "values": c.values,
            "errors": c.errors,
            "discarded_exhausted": c.discard_exhausted,
            "discarded_no_previous": c.discard_no_previous,
            "mismatches": c.mismatches,
            "seconds": r.elapsed.as_secs_f64(),
            "programs_per_second": r.programs_per_second(),
            "features": r.features.0.iter().map(|(k, (n, t))| (*k, [*n, *t])).collect::<std::collections::BTreeMap<_, _>>(),
            "mismatch": r.found.as_ref().map(|f| f.mismatch.first.clone()),
        });
        println!("{j}");
    }
    if bad {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `kont difftest --engine doeff`: the Python translations on doeff 0.8.0,
/// each difference from the reference classified (SPEC.md §11).
pub fn run_doeff(a: Args, venv: &std::path::Path, timeout: f64) -> ExitCode {
    use kont_difftest::python::{doeff, doeff_campaign as dc};
    if let Some(refused) = no_shards(&a) {
        return refused;
    }
    if !(timeout > 0.0 && timeout.is_finite()) {
        eprintln!("kont: --doeff-timeout must be a positive number of seconds");
        return ExitCode::from(2);
    }
    eprintln!("doeff: using the virtual environment {} (creating it when missing)", venv.display());
    let python = match doeff::ensure_venv(venv) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("kont: the doeff engine needs {}: {e}", doeff::DOEFF);
            return ExitCode::from(2);
        }
    };
    let (seed, cases, jobs) = sizes(&a, 5_000);
    eprintln!("campaign (doeff): {cases} programs, seed {seed}, {jobs} job(s), timeout {timeout}s per program");
    let bar = progress_bar(cases);
    let tick = |done: u64| bar.set_position(done);
    let save = if a.save { a.corpus.join("doeff") } else { PathBuf::from("target/doeff-found") };
    let config = dc::DoeffConfig {
        cases,
        seed,
        jobs,
        python,
        timeout: std::time::Duration::from_secs_f64(timeout),
        save,
        shrink_budget: 400,
        progress: Some(&tick),
    };
    let r = match dc::run(&config) {
        Ok(r) => r,
        Err(e) => {
            bar.finish_and_clear();
            eprintln!("kont: {e}");
            return ExitCode::from(2);
        }
    };
    bar.finish_and_clear();
    let c = &r.counts;
    let list = |m: Vec<(String, u64)>| {
        if m.is_empty() {
            "none".to_string()
        } else {
            m.into_iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
        }
    };
    eprintln!(
        "campaign (doeff): {} programs in {:.1}s ({:.1} programs/s): {} ran on doeff ({} agree, {} expected differences, {} unexpected), {} not run, {} not compared (reference exhausted or no first value)",
        c.run,
        r.elapsed.as_secs_f64(),
        r.programs_per_second(),
        c.ran(),
        c.agree,
        c.expected.values().sum::<u64>(),
        c.unexpected.values().sum::<u64>(),
        c.skipped.values().sum::<u64>(),
        c.discarded
    );
    eprintln!(
        "expected, by SPEC.md §11 item: {}",
        list(c.expected.iter().map(|(k, v)| (k.name().to_string(), *v)).collect())
    );
    eprintln!("unexpected, by kind: {}", list(c.unexpected.iter().map(|(k, v)| (k.name().to_string(), *v)).collect()));
    eprintln!("not run on doeff, by reason: {}", list(c.skipped.iter().map(|(k, v)| (k.name(), *v)).collect()));
    for f in &r.found {
        eprintln!("\nUNEXPECTED ({}) first at case {}: {}", f.kind.name(), f.index, f.diff.first);
        if !f.diff.class.is_empty() {
            eprintln!("class: {}", f.diff.class);
        }
        eprintln!(
            "shrunk program ({} nodes, from {}):\n{}",
            f.shrunk.size(),
            f.original.size(),
            print_program(&f.shrunk)
        );
        match &f.saved {
            Ok(p) => eprintln!("reproducer: {}", p.display()),
            Err(e) => eprintln!("could not save: {e}"),
        }
    }
    if a.json {
        let j = serde_json::json!({
            "engine": "doeff",
            "seed": r.seed,
            "cases": c.run,
            "ran": c.ran(),
            "agree": c.agree,
            "expected": c.expected.iter().map(|(k, v)| (k.name(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
            "unexpected": c.unexpected.iter().map(|(k, v)| (k.name(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
            "not_run": c.skipped.iter().map(|(k, v)| (k.name(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
            "discarded": c.discarded,
            "seconds": r.elapsed.as_secs_f64(),
            "programs_per_second": r.programs_per_second(),
            "reproducers": r.found.iter().filter_map(|f| f.saved.as_ref().ok().map(|p| p.display().to_string())).collect::<Vec<_>>(),
        });
        println!("{j}");
    }
    // Differences from doeff are findings, not failures of the tool.
    ExitCode::SUCCESS
}

fn untranslated(c: &kont_difftest::python::campaign::PyCounts) -> String {
    if c.untranslated.is_empty() {
        return "none".to_string();
    }
    c.untranslated.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
}

/// `kont difftest-sum FILE...`: add up the `--json` summaries of shards of one
/// campaign (each file's last non-empty line is a summary).
pub fn sum(files: &[PathBuf]) -> ExitCode {
    let mut parts = Vec::new();
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("kont: {}: {e}", f.display());
                return ExitCode::from(2);
            }
        };
        let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        match serde_json::from_str::<JsonSummary>(line) {
            Ok(p) => parts.push(p),
            Err(e) => {
                eprintln!("kont: {}: not a `kont difftest --json` summary: {e}", f.display());
                return ExitCode::from(2);
            }
        }
    }
    let total = match campaign::sum(&parts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("kont: {e}");
            return ExitCode::from(2);
        }
    };
    match campaign::missing_shards(&total.shards) {
        Ok(missing) if missing.is_empty() => {}
        Ok(missing) => {
            let names: Vec<String> = missing.iter().map(Shard::to_string).collect();
            eprintln!("note: shards missing from the sum: {}", names.join(" "));
        }
        Err(e) => eprintln!("note: {e}"),
    }
    eprintln!(
        "sum of {} shard(s) of seed {}: {} programs ({} concurrent) in {:.1} machine-seconds ({:.0} programs/s): \
         {} values, {} errors, {} out of fuel, {} discarded, {} mismatch(es)",
        total.shards.len(),
        total.seed,
        total.cases,
        total.concurrent,
        total.seconds,
        total.programs_per_second,
        total.values,
        total.errors,
        total.fuel_exhausted,
        total.discarded,
        total.mismatches
    );
    for (engine, never) in &total.rules_never_hit {
        if never.is_empty() {
            eprintln!("rules ({engine}): every SPEC.md rule fired");
        } else {
            eprintln!("rules ({engine}): never hit: {}", never.join(" "));
        }
    }
    println!("{}", serde_json::to_string(&total).expect("summary serializes"));
    if total.mismatches > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
