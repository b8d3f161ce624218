//! Continuation objects and the boundaries they carry (SPEC.md §4.4).
//!
//! A continuation owns its whole suspended computation: the meta-continuation
//! from the perform site (`inner`), the boundary that caught it (`outer`, the
//! deep handler re-entered on reactivation) and its envelope, the ordered list
//! of boundaries inside it. Nothing about it lives anywhere else.

use std::cell::RefCell;

use kont_spec::ast::{HandlerExpr, InterceptExpr, InterceptKind, Label};
use kont_spec::{BoundaryKind, ContId, NodeId, ScopeId};

use crate::env::Env;
use crate::res::Kont;
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

/// The suspended computation: resuming it with ρ̂ means `outer⟨inner(ρ̂)⟩`.
pub struct ContBody<'p> {
    pub inner: Kont<'p>,
    pub outer: Option<Boundary<'p>>,
    /// Boundaries inside the continuation, innermost first (`outer` last).
    pub envelope: Vec<Boundary<'p>>,
}

/// A first-class continuation value. One-shot: its body is taken on use.
pub struct ContObj<'p> {
    pub id: ContId,
    pub run: u64,
    pub body: RefCell<Option<ContBody<'p>>>,
}

impl<'p> ContObj<'p> {
    pub fn is_live(&self) -> bool {
        self.body.borrow().is_some()
    }

    /// Consume the continuation (the one-shot rule).
    pub fn take(&self) -> Option<ContBody<'p>> {
        self.body.borrow_mut().take()
    }
}
