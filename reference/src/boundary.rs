//! Boundaries (SPEC.md §4.5): installed handlers, interceptors and observers,
//! each with the scope id that is the live authority for its identity. A
//! continuation's envelope is a list of them (`continuation.rs`).

use kont_spec::ast::{HandlerExpr, InterceptExpr, InterceptKind, Label};
use kont_spec::{BoundaryKind, NodeId, ScopeId};

use crate::env::Env;
use crate::value::Value;

/// An installed boundary: its scope id (the live authority for its identity)
/// and what it does.
#[derive(Clone)]
pub struct Boundary<'p> {
    pub scope: ScopeId,
    pub kind: BoundaryData<'p>,
}

#[derive(Clone)]
pub enum BoundaryData<'p> {
    /// A handler: its clauses and the environment they close over.
    Handler { h: &'p HandlerExpr, env: Env<'p> },
    /// An interceptor or observer: its function, filter, and install site.
    Intercept { f: Value<'p>, x: &'p InterceptExpr, node: NodeId },
}

impl<'p> Boundary<'p> {
    pub fn kind(&self) -> BoundaryKind {
        match &self.kind {
            BoundaryData::Handler { .. } => BoundaryKind::Handler,
            BoundaryData::Intercept { x, .. } => match x.kind {
                InterceptKind::Intercept => BoundaryKind::Intercept,
                InterceptKind::Observe => BoundaryKind::Observe,
            },
        }
    }

    pub fn name(&self) -> String {
        match &self.kind {
            BoundaryData::Handler { h, .. } => h.display_name(),
            _ => self.kind().name().to_string(),
        }
    }

    /// Whether the boundary takes part in dispatching `label` (else rule D-Skip).
    pub fn takes_part(&self, label: &Label) -> bool {
        match &self.kind {
            BoundaryData::Handler { h, .. } => h.accepts(label),
            BoundaryData::Intercept { x, .. } => x.matches(label),
        }
    }
}
