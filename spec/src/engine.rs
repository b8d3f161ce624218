//! The seam both engines implement, so tools can drive either one.

use crate::ast::Program;
use crate::outcome::{Limits, RunOptions, RunResult};
use crate::rules::RuleCounts;

pub trait Engine: Sync {
    /// Short name: `reference`, `vm`.
    fn name(&self) -> &'static str;

    /// Run a statically checked program (see [`crate::check::check_program`]).
    fn run(&self, program: &Program, limits: Limits, options: RunOptions) -> RunResult;

    /// Run and also count which SPEC.md rules fired.
    fn run_counting(&self, program: &Program, limits: Limits, options: RunOptions) -> (RunResult, RuleCounts);

    /// Run `first`, then run `program` (whose only input is named `prev`) with
    /// `first`'s final value as that input: how a host carries a value, such
    /// as a continuation, from one run into another (rule K-Stale).
    /// Returns `None` when `first` did not end with a value.
    fn run_after(&self, first: &Program, program: &Program, limits: Limits, options: RunOptions) -> Option<RunResult> {
        self.run_after_counting(first, program, limits, options).map(|(r, _)| r)
    }

    /// [`Engine::run_after`], also counting the rules the second run fired.
    fn run_after_counting(
        &self,
        first: &Program,
        program: &Program,
        limits: Limits,
        options: RunOptions,
    ) -> Option<(RunResult, RuleCounts)>;
}
