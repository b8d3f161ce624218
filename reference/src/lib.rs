//! The kont reference interpreter: a big-step evaluator that transcribes
//! SPEC.md rule by rule. Clarity first; it is the oracle the production VM is
//! checked against.
//!
//! Depth: native recursion follows program nesting, on stack segments grown
//! on demand (`kont_spec::deep`), so depth is bounded by memory and by
//! `Limits::depth` (counted in nested evaluations), never by the thread stack.

#![forbid(unsafe_code)]

mod boundary;
mod continuation;
mod dispatch;
mod env;
mod eval;
mod interp;
mod memory;
mod prim;
mod res;
mod value;

use std::sync::atomic::{AtomicU64, Ordering};

use kont_spec::{Engine, Limits, Outcome, Program, RuleCounts, RunOptions, RunResult};

pub use value::Value;

use env::Env;
use interp::Interp;
use res::Res;

/// Each run gets a fresh identity; continuations and cells carry it.
static RUNS: AtomicU64 = AtomicU64::new(1);

/// The reference engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reference;

/// A run's result plus its final runtime value (for hosts that keep values).
pub struct RawRun<'p> {
    pub result: RunResult,
    pub value: Option<Value<'p>>,
    pub counts: Option<RuleCounts>,
}

impl Reference {
    /// Run `program` with its inputs bound to `inputs` (same order).
    pub fn run_raw<'p>(
        &self,
        program: &'p Program,
        inputs: Vec<Value<'p>>,
        limits: Limits,
        options: RunOptions,
        count: bool,
    ) -> RawRun<'p> {
        assert_eq!(inputs.len(), program.inputs.len(), "one value per declared input");
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let mut m = Interp::new(run, limits, options.trace, count);
        let mut env = Env::empty();
        for (name, v) in program.inputs.iter().zip(inputs) {
            env = env.bind(name, v);
        }
        let r = m.eval(&program.body, &env);
        let r = m.top(r);
        // The outcome is copied out as an observable value: R-Memory charges it.
        let r = match r {
            Res::Val(v) | Res::Err(v, _) if !m.spend_size(&v) => Res::Exh(kont_spec::Resource::Memory),
            r => r,
        };
        let (outcome, value) = match r {
            Res::Val(v) => (Outcome::Value { value: v.view(run) }, Some(v)),
            Res::Err(v, site) => (Outcome::Error { error: v.view(run), site }, None),
            Res::Exh(resource) => (Outcome::Exhausted { resource }, None),
            Res::Op(_) | Res::Esc(_) => unreachable!("the top handles effects and escapes"),
        };
        let (output, trace, steps, memory, counts) = m.into_parts();
        RawRun { result: RunResult { outcome, output, trace, steps, memory, native: false }, value, counts }
    }
}

impl Engine for Reference {
    fn name(&self) -> &'static str {
        "reference"
    }

    fn run(&self, program: &Program, limits: Limits, options: RunOptions) -> RunResult {
        self.run_raw(program, Vec::new(), limits, options, false).result
    }

    fn run_counting(&self, program: &Program, limits: Limits, options: RunOptions) -> (RunResult, RuleCounts) {
        let raw = self.run_raw(program, Vec::new(), limits, options, true);
        (raw.result, raw.counts.unwrap_or_default())
    }

    fn run_after_counting(
        &self,
        first: &Program,
        program: &Program,
        limits: Limits,
        options: RunOptions,
    ) -> Option<(RunResult, RuleCounts)> {
        let value = self.run_raw(first, Vec::new(), limits, RunOptions::default(), false).value?;
        let raw = self.run_raw(program, vec![value], limits, options, true);
        Some((raw.result, raw.counts.unwrap_or_default()))
    }
}
