//! The oracle: run a case on both engines and compare everything observable
//! — outcome (value, or typed error and its site), output log, trace
//! projection, fuel and memory spent.
//!
//! Fuel is exact in both engines (SPEC.md §9.1), so runs that exhaust it are
//! compared too. Depth limits are engine-specific: a run that hits one on
//! either side is discarded.
//!
//! When the VM ran a native handler (a program using the standard prelude),
//! its fuel is not the spec's count (SPEC.md §13.6): it is compared without
//! fuel, and the same program also runs on `vm-prelude` (the VM running the
//! handlers' kont clauses), which must match the reference exactly.

use std::panic::{catch_unwind, AssertUnwindSafe};

use kont_spec::{Engine, Event, Outcome, Resource, RuleCounts, RunOptions, RunResult};

use crate::gen::Case;

/// How a case that both engines agree on ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Value,
    Error,
    Fuel,
}

/// Why a case was not compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Discard {
    /// A depth limit struck (its unit differs between engines).
    Depth,
    /// The first of two runs did not return a value to hand over.
    NoPrevious,
    /// Fuel or memory ran out on one side of a comparison with native
    /// handlers, whose clauses spend neither.
    NativeFuel,
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
    }
}

/// Run one engine on a case, turning a panic into an error message.
fn run(engine: &dyn Engine, case: &Case, counts: &mut RuleCounts) -> Result<Option<RunResult>, String> {
    let options = RunOptions { trace: true };
    let program = case.runnable();
    let r = catch_unwind(AssertUnwindSafe(|| match &case.before {
        None => {
            let (r, c) = engine.run_counting(&program, case.limits, options);
            counts.add(&c);
            Some(r)
        }
        Some(first) => engine.run_after_counting(first, &program, case.limits, options).map(|(r, c)| {
            counts.add(&c);
            r
        }),
    }));
    r.map_err(|p| {
        let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
        format!("{} panicked: {}", engine.name(), msg.unwrap_or_default())
    })
}

/// Compare the two engines on `case`.
pub fn check(case: &Case, reference: &dyn Engine, vm: &dyn Engine, cov: &mut Coverage) -> Verdict {
    let r = run(reference, case, &mut cov.reference);
    let v = run(vm, case, &mut cov.vm);
    let (r, v) = match (r, v) {
        (Ok(Some(r)), Ok(Some(v))) => (r, v),
        (Ok(None), Ok(None)) => return Verdict::Discard(Discard::NoPrevious),
        (r, v) => {
            let first = match (&r, &v) {
                (Err(e), _) | (_, Err(e)) => e.clone(),
                _ => "only one engine's first run returned a value".to_string(),
            };
            let unwrap = |x: Result<Option<RunResult>, String>| x.and_then(|o| o.ok_or_else(|| "no run".into()));
            return Verdict::Mismatch(Box::new(Mismatch {
                first,
                trace_at: None,
                reference: unwrap(r),
                vm: unwrap(v),
                engine: vm.name(),
            }));
        }
    };
    if !v.native {
        return compare(r, v, vm.name());
    }
    let verdict = compare(r.clone(), v, vm.name());
    if matches!(verdict, Verdict::Mismatch(_)) {
        return verdict;
    }
    // The same program with the handlers' clauses, compared exactly.
    let clauses: &dyn Engine = &kont_vm::VmPrelude;
    match run(clauses, case, &mut cov.vm_prelude) {
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
        })),
    }
}

/// The verdict on two completed runs.
fn compare(r: RunResult, v: RunResult, engine: &'static str) -> Verdict {
    let depth = Outcome::Exhausted { resource: Resource::Depth };
    if r.outcome == depth || v.outcome == depth {
        return Verdict::Discard(Discard::Depth);
    }
    let fuel = Outcome::Exhausted { resource: Resource::Fuel };
    let memory = Outcome::Exhausted { resource: Resource::Memory };
    if !r.fuel_comparable(&v) && [fuel, memory].iter().any(|x| &r.outcome == x || &v.outcome == x) {
        return Verdict::Discard(Discard::NativeFuel);
    }
    match difference(&r, &v, engine) {
        None => Verdict::Agree(match r.outcome {
            Outcome::Value { .. } => Class::Value,
            Outcome::Error { .. } => Class::Error,
            Outcome::Exhausted { .. } => Class::Fuel,
        }),
        Some((first, trace_at)) => {
            Verdict::Mismatch(Box::new(Mismatch { first, trace_at, reference: Ok(r), vm: Ok(v), engine }))
        }
    }
}

/// The first difference between the reference's result `a` and engine
/// `name`'s `b`, and the trace index when the traces are where they differ.
pub fn difference(a: &RunResult, b: &RunResult, name: &str) -> Option<(String, Option<usize>)> {
    if let Some(i) = (0..a.trace.len().max(b.trace.len())).find(|&i| a.trace.get(i) != b.trace.get(i)) {
        let show = |t: &[Event]| t.get(i).map_or("<end of trace>".to_string(), |e| e.to_string());
        return Some((
            format!("trace event {}: reference `{}`, {name} `{}`", i + 1, show(&a.trace), show(&b.trace)),
            Some(i),
        ));
    }
    if a.outcome != b.outcome {
        return Some((format!("outcome: reference `{}`, {name} `{}`", a.outcome, b.outcome), None));
    }
    if a.output != b.output {
        let i = (0..a.output.len().max(b.output.len())).find(|&i| a.output.get(i) != b.output.get(i)).unwrap_or(0);
        let show = |o: &[kont_spec::ValueView]| o.get(i).map_or("<end>".to_string(), |v| v.to_string());
        return Some((
            format!("output {}: reference `{}`, {name} `{}`", i + 1, show(&a.output), show(&b.output)),
            None,
        ));
    }
    if a.fuel_comparable(b) && a.steps != b.steps {
        return Some((format!("fuel spent: reference {}, {name} {}", a.steps, b.steps), None));
    }
    if a.fuel_comparable(b) && a.memory != b.memory {
        return Some((format!("memory spent: reference {}, {name} {}", a.memory, b.memory), None));
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
