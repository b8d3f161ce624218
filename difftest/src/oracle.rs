//! The oracle: run a case on both engines and compare everything observable
//! — outcome (value, or typed error and its site), output log, trace
//! projection, fuel and memory spent.
//!
//! Fuel is exact in both engines (SPEC.md §9.1), so runs that exhaust it are
//! compared exactly. Depth limits are engine-specific (§9.2): when a run
//! hits one, the engines agree up to where it stopped — its trace and output
//! are a prefix of the other run's.
//!
//! When the VM ran a native handler (a program using the standard prelude),
//! its fuel is bounded by the spec's count, not equal to it (SPEC.md §13.6):
//! it may not spend more than the reference, may not run out where the
//! reference did not, and where the reference ran out its trace and output
//! extend the reference's. The same program also runs on `vm-prelude` (the
//! VM running the handlers' kont clauses), which must match the reference
//! exactly, fuel and exhaustion included.
//!
//! Tracing only observes: the VM also runs each case untraced (as `kont run`
//! does, where dispatch may take shortcuts nobody sees) and must end the
//! same way, with the same output, fuel and memory.

use std::panic::{catch_unwind, AssertUnwindSafe};

use kont_spec::{Engine, Event, Outcome, Program, Resource, RuleCounts, RunOptions, RunResult};

use crate::gen::Case;
use crate::interactions::{self, SituationCounts};

/// How a case that both engines agree on ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Value,
    Error,
    Fuel,
    /// A depth limit struck on one side or both; the runs agree up to it.
    Depth,
}

/// Why a case was not compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Discard {
    /// The first of two runs did not return a value to hand over.
    NoPrevious,
}

#[derive(Clone, Debug)]
pub enum Verdict {
    Agree(Class),
    Discard(Discard),
    Mismatch(Box<Mismatch>),
}

/// Where and how the engines differ.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// A one-line description of the first difference.
    pub first: String,
    /// The trace index of the first differing event, when the traces differ.
    pub trace_at: Option<usize>,
    pub reference: Result<RunResult, String>,
    /// The run that disagreed with the reference, and its engine.
    pub vm: Result<RunResult, String>,
    pub engine: &'static str,
    /// What differs, for counting: `panic`, `first-run`, `trace`, `outcome`,
    /// `output`, `fuel`, `native-fuel`, `depth-prefix`, `fuel-prefix`,
    /// `untraced` (then `reference` is the engine's own traced run).
    pub kind: &'static str,
}

impl Mismatch {
    /// `engine: kind`, how a campaign counts it.
    pub fn key(&self) -> String {
        format!("{}: {}", self.engine, self.kind)
    }
}

/// Rule counts of each engine, accumulated over a campaign and kept apart:
/// a rule is covered for an engine only if that engine fired it.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    pub reference: RuleCounts,
    pub vm: RuleCounts,
    /// The VM running the prelude's handlers as kont clauses; only programs
    /// that ran a native handler on the VM run on it too.
    pub vm_prelude: RuleCounts,
    /// Interaction coverage, per engine the same way (`interactions.rs`).
    pub situations: Situations,
}

/// Programs in which each situation occurred, per engine.
#[derive(Clone, Debug, Default)]
pub struct Situations {
    pub reference: SituationCounts,
    pub vm: SituationCounts,
    pub vm_prelude: SituationCounts,
}

impl Situations {
    pub fn engines(&self) -> [(&'static str, &SituationCounts); 3] {
        [("reference", &self.reference), ("vm", &self.vm), ("vm-prelude", &self.vm_prelude)]
    }
}

impl Coverage {
    /// Each engine's name and counts.
    pub fn engines(&self) -> [(&'static str, &RuleCounts); 3] {
        [("reference", &self.reference), ("vm", &self.vm), ("vm-prelude", &self.vm_prelude)]
    }

    pub fn add(&mut self, other: &Coverage) {
        self.reference.add(&other.reference);
        self.vm.add(&other.vm);
        self.vm_prelude.add(&other.vm_prelude);
        self.situations.reference.add(&other.situations.reference);
        self.situations.vm.add(&other.situations.vm);
        self.situations.vm_prelude.add(&other.situations.vm_prelude);
    }
}

/// Run one engine on a case (`program` is its runnable program), turning a
/// panic into an error message.
fn run(
    engine: &dyn Engine,
    case: &Case,
    program: &Program,
    counts: &mut RuleCounts,
    situations: &mut SituationCounts,
) -> Result<Option<RunResult>, String> {
    let options = RunOptions { trace: true };
    let r = catch_unwind(AssertUnwindSafe(|| match &case.before {
        None => {
            let (r, c) = engine.run_counting(program, case.limits, options);
            counts.add(&c);
            Some(r)
        }
        Some(first) => engine.run_after_counting(first, program, case.limits, options).map(|(r, c)| {
            counts.add(&c);
            r
        }),
    }));
    if let Ok(Some(r)) = &r {
        situations.count(&interactions::detect(case, r));
    }
    r.map_err(|p| {
        let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
        format!("{} panicked: {}", engine.name(), msg.unwrap_or_default())
    })
}

/// Compare the two engines on `case`.
pub fn check(case: &Case, reference: &dyn Engine, vm: &dyn Engine, cov: &mut Coverage) -> Verdict {
    // Wrapped with the prelude once: every engine runs the same program.
    let program = case.runnable();
    let r = run(reference, case, &program, &mut cov.reference, &mut cov.situations.reference);
    let v = run(vm, case, &program, &mut cov.vm, &mut cov.situations.vm);
    let (r, v) = match (r, v) {
        (Ok(Some(r)), Ok(Some(v))) => (r, v),
        (Ok(None), Ok(None)) => return Verdict::Discard(Discard::NoPrevious),
        (r, v) => {
            let (first, kind) = match (&r, &v) {
                (Err(e), _) | (_, Err(e)) => (e.clone(), "panic"),
                _ => ("only one engine's first run returned a value".to_string(), "first-run"),
            };
            let unwrap = |x: Result<Option<RunResult>, String>| x.and_then(|o| o.ok_or_else(|| "no run".into()));
            return Verdict::Mismatch(Box::new(Mismatch {
                first,
                trace_at: None,
                reference: unwrap(r),
                vm: unwrap(v),
                engine: vm.name(),
                kind,
            }));
        }
    };
    if let Some(m) = untraced_difference(vm, case, &program, &v) {
        return Verdict::Mismatch(m);
    }
    if !v.native {
        return compare(r, v, vm.name());
    }
    let verdict = compare(r.clone(), v, vm.name());
    if matches!(verdict, Verdict::Mismatch(_)) {
        return verdict;
    }
    // The same program with the handlers' clauses, compared exactly.
    let clauses: &dyn Engine = &kont_vm::VmPrelude;
    match run(clauses, case, &program, &mut cov.vm_prelude, &mut cov.situations.vm_prelude) {
        Ok(Some(p)) => match compare(r, p, clauses.name()) {
            Verdict::Agree(_) => verdict,
            other => other,
        },
        p => Verdict::Mismatch(Box::new(Mismatch {
            first: format!("{} did not run", clauses.name()),
            trace_at: None,
            reference: Ok(r),
            vm: p.and_then(|o| o.ok_or_else(|| "no run".into())),
            engine: clauses.name(),
            kind: "panic",
        })),
    }
}

/// Run `engine` on the case again untraced: where it differs from its traced
/// run `traced` (outcome, output, fuel, memory), the mismatch.
fn untraced_difference(
    engine: &dyn Engine,
    case: &Case,
    program: &Program,
    traced: &RunResult,
) -> Option<Box<Mismatch>> {
    let options = RunOptions { trace: false };
    let u = catch_unwind(AssertUnwindSafe(|| match &case.before {
        None => Some(engine.run(program, case.limits, options)),
        Some(first) => engine.run_after(first, program, case.limits, options),
    }));
    let u = match u {
        Ok(Some(u)) => u,
        Ok(None) => return None,
        Err(_) => {
            return Some(Box::new(Mismatch {
                first: format!("{} panicked untraced", engine.name()),
                trace_at: None,
                reference: Ok(traced.clone()),
                vm: Err("panic".into()),
                engine: engine.name(),
                kind: "untraced",
            }))
        }
    };
    let first = if u.outcome != traced.outcome {
        format!("untraced outcome `{}`, traced `{}`", u.outcome, traced.outcome)
    } else if u.output != traced.output {
        format!("untraced output {} values, traced {}", u.output.len(), traced.output.len())
    } else if (u.steps, u.memory) != (traced.steps, traced.memory) {
        format!("untraced fuel/memory {}/{}, traced {}/{}", u.steps, u.memory, traced.steps, traced.memory)
    } else {
        return None;
    };
    Some(Box::new(Mismatch {
        first: format!("{}: {first}", engine.name()),
        trace_at: None,
        reference: Ok(traced.clone()),
        vm: Ok(u),
        engine: engine.name(),
        kind: "untraced",
    }))
}

/// The verdict on two completed runs.
fn compare(r: RunResult, v: RunResult, engine: &'static str) -> Verdict {
    let depth = Outcome::Exhausted { resource: Resource::Depth };
    let found = if r.outcome == depth || v.outcome == depth {
        // The unit differs (SPEC.md §9.2): the run that stopped on a limit
        // (the shorter, if both did) agrees with the other up to where it stopped.
        let stopped = |x: &RunResult| matches!(x.outcome, Outcome::Exhausted { .. });
        let (short, long) = match (stopped(&r), stopped(&v)) {
            (true, false) => (&r, &v),
            (false, true) => (&v, &r),
            _ if r.trace.len() <= v.trace.len() => (&r, &v),
            _ => (&v, &r),
        };
        prefix_difference(&r, &v, short, long, engine).map(|(f, at)| (f, at, "depth-prefix"))
    } else if !r.fuel_comparable(&v) {
        native_difference(&r, &v, engine)
    } else {
        difference(&r, &v, engine)
    };
    match found {
        None => Verdict::Agree(match r.outcome {
            _ if r.outcome == depth || v.outcome == depth => Class::Depth,
            Outcome::Value { .. } => Class::Value,
            Outcome::Error { .. } => Class::Error,
            Outcome::Exhausted { .. } => Class::Fuel,
        }),
        Some((first, trace_at, kind)) => {
            Verdict::Mismatch(Box::new(Mismatch { first, trace_at, reference: Ok(r), vm: Ok(v), engine, kind }))
        }
    }
}

/// A difference with three parts: the description, the trace index, the kind.
type Found = Option<(String, Option<usize>, &'static str)>;

/// `short`'s trace and output must be a prefix of `long`'s (one run stopped
/// early on a limit the other did not hit there).
fn prefix_difference(
    r: &RunResult,
    v: &RunResult,
    short: &RunResult,
    long: &RunResult,
    name: &str,
) -> Option<(String, Option<usize>)> {
    let show = |t: &[Event], i: usize| t.get(i).map_or("<end of trace>".to_string(), |e| e.to_string());
    if let Some(i) = (0..short.trace.len()).find(|&i| long.trace.get(i) != Some(&short.trace[i])) {
        return Some((
            format!("trace event {}: reference `{}`, {name} `{}`", i + 1, show(&r.trace, i), show(&v.trace, i)),
            Some(i),
        ));
    }
    if short.output.len() > long.output.len() || short.output.iter().zip(&long.output).any(|(a, b)| a != b) {
        return Some((
            format!("output is not a prefix: reference {} values, {name} {}", r.output.len(), v.output.len()),
            None,
        ));
    }
    None
}

/// Reference `r` against a run `v` with native handlers, whose fuel and
/// memory are bounded by the spec's counts (SPEC.md §13.6).
fn native_difference(r: &RunResult, v: &RunResult, name: &str) -> Found {
    let out_of = |x: &RunResult| match x.outcome {
        Outcome::Exhausted { resource: resource @ (Resource::Fuel | Resource::Memory) } => Some(resource),
        _ => None,
    };
    if let (Some(resource), None) = (out_of(v), out_of(r)) {
        return Some((
            format!(
                "{name} ran out of {}, the reference did not (`{}`): native handlers spend less",
                resource.name(),
                r.outcome
            ),
            None,
            "native-limit",
        ));
    }
    if out_of(r).is_some() {
        // The native run went at least as far on the same path.
        return prefix_difference(r, v, r, v, name).map(|(f, at)| (f, at, "limit-prefix"));
    }
    if let Some((f, at, kind)) = difference(r, v, name) {
        return Some((f, at, kind));
    }
    if v.steps > r.steps {
        return Some((
            format!("fuel spent: {name} {} is more than the reference's {}", v.steps, r.steps),
            None,
            "native-fuel",
        ));
    }
    (v.memory > r.memory).then(|| {
        (format!("memory spent: {name} {} is more than the reference's {}", v.memory, r.memory), None, "native-memory")
    })
}

/// The first difference between the reference's result `a` and engine
/// `name`'s `b`, the trace index when the traces are where they differ, and its kind.
pub fn difference(a: &RunResult, b: &RunResult, name: &str) -> Found {
    if let Some(i) = (0..a.trace.len().max(b.trace.len())).find(|&i| a.trace.get(i) != b.trace.get(i)) {
        let show = |t: &[Event]| t.get(i).map_or("<end of trace>".to_string(), |e| e.to_string());
        return Some((
            format!("trace event {}: reference `{}`, {name} `{}`", i + 1, show(&a.trace), show(&b.trace)),
            Some(i),
            "trace",
        ));
    }
    if a.outcome != b.outcome {
        return Some((format!("outcome: reference `{}`, {name} `{}`", a.outcome, b.outcome), None, "outcome"));
    }
    if a.output != b.output {
        let i = (0..a.output.len().max(b.output.len())).find(|&i| a.output.get(i) != b.output.get(i)).unwrap_or(0);
        let show = |o: &[kont_spec::ValueView]| o.get(i).map_or("<end>".to_string(), |v| v.to_string());
        return Some((
            format!("output {}: reference `{}`, {name} `{}`", i + 1, show(&a.output), show(&b.output)),
            None,
            "output",
        ));
    }
    if a.fuel_comparable(b) && a.steps != b.steps {
        return Some((format!("fuel spent: reference {}, {name} {}", a.steps, b.steps), None, "fuel"));
    }
    if a.fuel_comparable(b) && a.memory != b.memory {
        return Some((format!("memory spent: reference {}, {name} {}", a.memory, b.memory), None, "memory"));
    }
    None
}

impl Mismatch {
    /// The differing trace events with a few events of context, both sides.
    pub fn trace_context(&self, before: usize) -> String {
        let (Ok(r), Ok(v), Some(i)) = (&self.reference, &self.vm, self.trace_at) else { return String::new() };
        let mut out = String::new();
        for (name, t) in [("reference", &r.trace), (self.engine, &v.trace)] {
            out.push_str(&format!("  {name}:\n"));
            for (j, ev) in t.iter().enumerate().take(i + 2).skip(i.saturating_sub(before)) {
                let mark = if j == i { ">" } else { " " };
                out.push_str(&format!("   {mark}{:>4} {ev}\n", j + 1));
            }
            if i >= t.len() {
                out.push_str(&format!("   >{:>4} <end of trace>\n", i + 1));
            }
        }
        out
    }
}

/// Panic with the difference when the engines disagree on `case` (for fuzz targets).
pub fn assert_agree(case: &Case) {
    if let Verdict::Mismatch(m) = check(case, &kont_reference::Reference, &kont_vm::Vm, &mut Coverage::default()) {
        panic!(
            "engines disagree: {}\n{}{}",
            m.first,
            kont_spec::syntax::print_program(&case.program),
            m.trace_context(4)
        );
    }
}
