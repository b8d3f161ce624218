//! The trace projection (SPEC.md §8): semantic events both engines emit at the
//! moment they do the thing, with canonical ids (scopes by installation order,
//! dispatches by perform order, continuations by creation order). No engine
//! detail (fiber, frame, address) appears here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ast::{NodeId, ResumeMode};
use crate::syntax::SourceMap;
use crate::value::ValueView;

/// Canonical scope id: the n-th boundary installed in the run (1-based).
pub type ScopeId = u32;
/// Canonical dispatch id: the n-th perform of the run (1-based).
pub type DispatchId = u32;
/// Canonical continuation id: the n-th continuation created in the run (1-based).
pub type ContId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BoundaryKind {
    Handler,
    Intercept,
    Observe,
}

impl BoundaryKind {
    pub fn name(self) -> &'static str {
        match self {
            BoundaryKind::Handler => "handler",
            BoundaryKind::Intercept => "intercept",
            BoundaryKind::Observe => "observe",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A boundary was installed: by `with-*` entry, or as a copy in a new continuation's envelope.
    Install { scope: ScopeId, kind: BoundaryKind, name: String, copy_of: Option<ScopeId> },
    /// An effect was performed: dispatch `dispatch` starts at `site`.
    Perform { dispatch: DispatchId, effect: ValueView, site: NodeId },
    /// Boundary `scope` does not take part in the dispatch (filter, no clause).
    Skip { dispatch: DispatchId, scope: ScopeId },
    /// Interceptor `scope` returned `effect`; dispatch goes on outward with it.
    Intercept { dispatch: DispatchId, scope: ScopeId, effect: ValueView },
    /// Observer `scope` saw the effect and returned.
    Observe { dispatch: DispatchId, scope: ScopeId },
    /// Handler `scope` took the effect: its clause starts with continuation `k`.
    Handle { dispatch: DispatchId, scope: ScopeId, k: ContId },
    /// The clause of `scope` passed `k` outward with `effect`.
    Pass { dispatch: DispatchId, scope: ScopeId, k: ContId, effect: ValueView },
    /// Dispatch reached the top: the `unhandled` error is raised at the perform site.
    Unhandled { dispatch: DispatchId },
    /// The clause (of dispatch `dispatch`, handler `scope`) returned `value`.
    Return { dispatch: DispatchId, scope: ScopeId, value: ValueView },
    /// The clause or interceptor of `scope` ended by raising `error`.
    Threw { dispatch: DispatchId, scope: ScopeId, error: ValueView },
    /// Continuation `k` was reactivated (resume / transfer, with a value or by throwing).
    Resume { k: ContId, mode: ResumeMode, throw: bool, value: ValueView },
    /// `new-cont` made unstarted continuation `k` under copies `envelope` (innermost first).
    NewCont { k: ContId, envelope: Vec<ScopeId> },
    /// An error was raised at `site` (by `raise` or by the runtime).
    Raise { error: ValueView, site: NodeId },
    /// The `try` at `site` caught `error`.
    Catch { error: ValueView, site: NodeId },
    /// `error` propagated out of the body of boundary `scope`.
    Unwind { scope: ScopeId, error: ValueView },
    /// `(mark "tag" v)`: a program's own event (schedulers mark task events).
    Mark { tag: String, value: ValueView },
}

impl Event {
    /// One line; sites appear as `@line:col` when a source map is given.
    pub fn render(&self, map: Option<&SourceMap>) -> String {
        let site = |s: &NodeId| match map {
            Some(m) => format!(" @{}", m.describe(*s)),
            None => String::new(),
        };
        match self {
            Event::Install { scope, kind, name, copy_of } => {
                let copy = copy_of.map_or(String::new(), |c| format!(" copy-of s{c}"));
                format!("install s{scope} {} {}{copy}", kind.name(), crate::syntax::quote_str(name))
            }
            Event::Perform { dispatch, effect, site: s } => {
                format!("perform d{dispatch} {}{}", effect_short(effect), site(s))
            }
            Event::Skip { dispatch, scope } => format!("skip d{dispatch} s{scope}"),
            Event::Intercept { dispatch, scope, effect } => {
                format!("intercept d{dispatch} s{scope} -> {}", effect_short(effect))
            }
            Event::Observe { dispatch, scope } => format!("observe d{dispatch} s{scope}"),
            Event::Handle { dispatch, scope, k } => format!("handle d{dispatch} s{scope} k{k}"),
            Event::Pass { dispatch, scope, k, effect } => {
                format!("pass d{dispatch} s{scope} k{k} -> {}", effect_short(effect))
            }
            Event::Unhandled { dispatch } => format!("unhandled d{dispatch}"),
            Event::Return { dispatch, scope, value } => format!("return d{dispatch} s{scope} {value}"),
            Event::Threw { dispatch, scope, error } => format!("threw d{dispatch} s{scope} {error}"),
            Event::Resume { k, mode, throw, value } => {
                let verb = match mode {
                    ResumeMode::Resume => "resume",
                    ResumeMode::Transfer => "transfer",
                };
                let t = if *throw { " throw" } else { "" };
                format!("{verb} k{k}{t} {value}")
            }
            Event::NewCont { k, envelope } => {
                let e: Vec<String> = envelope.iter().map(|s| format!("s{s}")).collect();
                format!("new-cont k{k} [{}]", e.join(" "))
            }
            Event::Raise { error, site: s } => format!("raise {error}{}", site(s)),
            Event::Catch { error, site: s } => format!("catch {error}{}", site(s)),
            Event::Unwind { scope, error } => format!("unwind s{scope} {error}"),
            Event::Mark { tag, value } => format!("mark {tag} {value}"),
        }
    }
}

/// `Ping 1` rather than `(effect Ping 1)` inside trace lines.
fn effect_short(v: &ValueView) -> String {
    match v {
        ValueView::Effect { label, payload } => format!("{label} {payload}"),
        other => other.to_string(),
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(None))
    }
}

/// The compact rendering of a whole trace, one event per line.
pub fn render_trace(events: &[Event], map: Option<&SourceMap>) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&e.render(map));
        out.push('\n');
    }
    out
}
