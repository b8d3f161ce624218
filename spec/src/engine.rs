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
}
