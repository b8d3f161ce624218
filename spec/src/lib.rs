//! The kont language: abstract syntax, text syntax, observable values,
//! outcomes, the trace projection, the error catalogue and the rule list.
//! SPEC.md (next to this crate) is the contract; this crate is its data.

#![forbid(unsafe_code)]

pub mod ast;
pub mod check;
pub mod deep;
pub mod engine;
pub mod errors;
pub mod outcome;
pub mod prelude;
pub mod rules;
pub mod script;
pub mod syntax;
pub mod trace;
pub mod traceback;
pub mod value;

pub use ast::{Expr, ExprKind, Label, NodeId, Program};
pub use check::{check_program, CheckError};
pub use engine::Engine;
pub use errors::ErrorTag;
pub use outcome::{Limits, Outcome, Resource, RunOptions, RunResult};
pub use rules::{Rule, RuleCounts};
pub use syntax::{parse_program, print_program, ParseError, SourceMap, HOST_SITE_BASE};
pub use trace::{BoundaryKind, ContId, DispatchId, Event, ScopeId};
pub use value::ValueView;
