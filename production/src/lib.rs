//! The kont production VM: a stepping machine whose continuations are
//! first-class suspended computations (see `continuation.rs`), reactivated in
//! O(1) by relinking a detached fiber chain under the resumer.
//!
//! Depth: program depth lives in heap-allocated frames and fibers, never on
//! the native stack. `Limits::depth` bounds live fibers plus the running
//! fiber's frames.

#![forbid(unsafe_code)]

mod code;
mod compile;
pub mod continuation;
mod control;
mod dispatch;
pub mod faults;
mod fiber;
pub mod host;
mod install;
mod liveness;
mod machine;
mod memory;
mod native;
mod prim;
mod tail_transfer;
mod value;

use std::sync::atomic::{AtomicU64, Ordering};

use kont_spec::{Engine, Limits, Outcome, Program, RuleCounts, RunOptions, RunResult};

pub use code::Code;
pub use compile::{compile, compile_with};
pub use continuation::Continuation;
pub use value::Value;

use machine::{Exit, Machine};

/// Each run gets a fresh identity; continuations and cells carry it.
static RUNS: AtomicU64 = AtomicU64::new(1);

/// A fresh run identity.
pub(crate) fn next_run() -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed)
}

/// The production engine. The standard prelude's `:native` handlers
/// (scheduler, await, cache) run natively (SPEC.md §13.6).
#[derive(Clone, Copy, Debug, Default)]
pub struct Vm;

/// The production engine running every handler as its kont clauses: what
/// the native handlers are checked against.
#[derive(Clone, Copy, Debug, Default)]
pub struct VmPrelude;

/// A run's result plus its final runtime value (for hosts that keep values).
pub struct RawRun {
    pub result: RunResult,
    pub value: Option<Value>,
    pub counts: Option<RuleCounts>,
}

impl Vm {
    /// Run compiled `code` with its inputs bound to `inputs` (same order).
    pub fn run_code(
        &self,
        code: &Code,
        inputs: Vec<Value>,
        limits: Limits,
        options: RunOptions,
        count: bool,
    ) -> RawRun {
        let run = next_run();
        let mut m = Machine::new(code, run, limits, options.trace, count);
        let stop = m.run_main(inputs);
        // The outcome is copied out as an observable value: R-Memory charges it.
        let stop = match stop {
            Exit::Finished(v) | Exit::Failed(v, _) if m.spend_size(&v).is_break() => {
                Exit::Exhausted(kont_spec::Resource::Memory)
            }
            stop => stop,
        };
        let (outcome, value) = match stop {
            Exit::Finished(v) => (Outcome::Value { value: m.view(&v) }, Some(v)),
            Exit::Failed(e, site) => (Outcome::Error { error: m.view(&e), site }, None),
            Exit::Exhausted(resource) => (Outcome::Exhausted { resource }, None),
            Exit::RunHost => unreachable!("the trampoline runs host code"),
        };
        let steps = m.steps();
        let result = RunResult {
            outcome,
            output: std::mem::take(&mut m.output),
            trace: m.trace.take().unwrap_or_default(),
            steps,
            memory: m.memory_spent(),
            native: m.natives_used,
        };
        RawRun { result, value, counts: m.counts.take() }
    }

    /// Compile and run `program` with `inputs`.
    pub fn run_raw(
        &self,
        program: &Program,
        inputs: Vec<Value>,
        limits: Limits,
        options: RunOptions,
        count: bool,
    ) -> RawRun {
        self.run_raw_with(program, inputs, limits, options, count, true)
    }

    fn run_raw_with(
        &self,
        program: &Program,
        inputs: Vec<Value>,
        limits: Limits,
        options: RunOptions,
        count: bool,
        natives: bool,
    ) -> RawRun {
        assert_eq!(inputs.len(), program.inputs.len(), "one value per declared input");
        let code = compile_with(program, natives);
        self.run_code(&code, inputs, limits, options, count)
    }
}

/// The `Engine` impl of a VM engine: `natives` says whether the standard
/// prelude's handlers run natively.
macro_rules! vm_engine {
    ($engine:ty, $name:literal, $natives:literal) => {
        impl Engine for $engine {
            fn name(&self) -> &'static str {
                $name
            }

            fn run(&self, program: &Program, limits: Limits, options: RunOptions) -> RunResult {
                Vm.run_raw_with(program, Vec::new(), limits, options, false, $natives).result
            }

            fn run_counting(&self, program: &Program, limits: Limits, options: RunOptions) -> (RunResult, RuleCounts) {
                let raw = Vm.run_raw_with(program, Vec::new(), limits, options, true, $natives);
                (raw.result, raw.counts.unwrap_or_default())
            }

            fn run_after_counting(
                &self,
                first: &Program,
                program: &Program,
                limits: Limits,
                options: RunOptions,
            ) -> Option<(RunResult, RuleCounts)> {
                let value = Vm.run_raw_with(first, Vec::new(), limits, RunOptions::default(), false, $natives).value?;
                let raw = Vm.run_raw_with(program, vec![value], limits, options, true, $natives);
                Some((raw.result, raw.counts.unwrap_or_default()))
            }
        }
    };
}

vm_engine!(Vm, "vm", true);
vm_engine!(VmPrelude, "vm-prelude", false);
