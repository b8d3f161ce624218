//! What a run produces (SPEC.md §6): an outcome, the output log, the trace and
//! the fuel spent. Everything here is engine-independent and comparable.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ast::NodeId;
use crate::syntax::SourceMap;
use crate::trace::Event;
use crate::value::ValueView;

/// A resource whose exhaustion ends a run (rules R-Fuel, R-Memory, R-Depth).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// The step budget: one unit per expression evaluated. Exact in every engine.
    Fuel,
    /// The engine's nesting limit. Engine-specific: only the kind is comparable.
    Depth,
    /// The allocation budget: the size of every value a primitive builds
    /// (SPEC.md §9.2). Exact in every engine.
    Memory,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::Fuel => "fuel",
            Resource::Depth => "depth",
            Resource::Memory => "memory",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The program returned a value.
    Value { value: ValueView },
    /// An error value escaped the program; `site` is where it was last raised.
    Error { error: ValueView, site: NodeId },
    /// A limit ended the run. Not an error value: nothing can catch it.
    Exhausted { resource: Resource },
}

impl Outcome {
    /// One line, with the error site as line:col when a source map is given.
    pub fn render(&self, map: Option<&SourceMap>) -> String {
        match self {
            Outcome::Value { value } => format!("value {value}"),
            Outcome::Error { error, site } => match map {
                Some(m) => format!("error {error} @{}", m.describe(*site)),
                None => format!("error {error}"),
            },
            Outcome::Exhausted { resource } => format!("exhausted {}", resource.name()),
        }
    }

    pub fn error_tag(&self) -> Option<&str> {
        match self {
            Outcome::Error { error, .. } => error.error_tag(),
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(None))
    }
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResult {
    pub outcome: Outcome,
    /// Values passed to `emit`, in order.
    pub output: Vec<ValueView>,
    /// Trace events, when tracing was on.
    pub trace: Vec<Event>,
    /// Fuel spent: expressions evaluated.
    pub steps: u64,
    /// Memory spent: the sizes of the values primitives built (SPEC.md §9.2).
    #[serde(default)]
    pub memory: u64,
    /// A native handler was installed (SPEC.md §13.6): the clauses it stands
    /// for are not evaluated, so `steps` (and when fuel runs out) is not the
    /// spec's count.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub native: bool,
}

impl RunResult {
    /// The JSON form (`kont run --json`); safe at any depth of its values.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("results always serialize")
    }

    /// Parse the JSON form back. Deeply nested documents are fine: the
    /// deserializer grows the stack (the outcome is internally tagged, so
    /// serde buffers it through its own recursion, which this covers too).
    pub fn from_json(text: &str) -> Result<RunResult, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        de.disable_recursion_limit();
        let de = serde_stacker::Deserializer::new(&mut de);
        RunResult::deserialize(de)
    }

    /// Whether fuel and memory are comparable with another engine's: both
    /// counted exactly (a native handler spends neither as its clauses would).
    pub fn fuel_comparable(&self, other: &RunResult) -> bool {
        !self.native && !other.native
    }
}

/// Resource limits of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Maximum number of expression evaluations.
    pub fuel: u64,
    /// Maximum nesting; its unit is engine-specific (SPEC.md §9.3).
    pub depth: u32,
    /// Maximum memory spent (SPEC.md §9.2).
    pub memory: u64,
}

impl Limits {
    /// Generous limits for running user programs.
    pub const DEFAULT: Limits = Limits { fuel: 100_000_000, depth: 1_000_000, memory: 100_000_000 };

    pub fn with_fuel(self, fuel: u64) -> Limits {
        Limits { fuel, ..self }
    }

    pub fn with_depth(self, depth: u32) -> Limits {
        Limits { depth, ..self }
    }

    pub fn with_memory(self, memory: u64) -> Limits {
        Limits { memory, ..self }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// Options that do not change the semantics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Record the trace projection.
    pub trace: bool,
}
