//! Tracebacks (SPEC.md §13.5): the propagation path of the error that
//! escaped a run, rendered from the trace and the outcome alone. A pure
//! projection: it never consults an engine and never repairs a trace; any
//! list of events gives some text.
//!
//! The path is made of **flights**. A flight starts where the error value is
//! raised (`raise`) or thrown into a continuation (`resume`/`transfer` with
//! `throw`), crosses boundaries (`unwind`, `threw`) and ends at a `catch`, or
//! at the end of the run for the last one. Walking back from the last flight,
//! each flight is linked to the `catch` that preceded it: through a `join`
//! mark when a task's error was handed to the raising task (SPEC §13.2), else
//! by equality of the error value.
//!
//! Lines are in propagation order, **most recent last**: the origin first,
//! the error leaving the run last, then the outcome and a legend of the
//! scopes named. Example (an error two spawns deep, under the std prelude):
//!
//! ```text
//! traceback (most recent last):
//!   task 2: raise @4:47, after transfer k4 (unstarted, new-cont)
//!   task 2: caught @prelude std 290:21
//!   ── task 2 (spawned by task 1) failed → joined by task 1
//!   task 1: re-raise @prelude std 59:43, after transfer k7 (d5 Wait @prelude std 444:26, taken by s2 "scheduler")
//!   ...
//!   ── task 0 (root) failed
//!   no task: re-raise @prelude std 59:43, after s1 "scheduler" returned on d7 TaskDone @prelude std 290:3
//! error (error "boom" 1) @prelude std 59:43
//! scopes:
//!   s1 handler "scheduler"
//!   s2 handler "scheduler" copy-of s1
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use crate::ast::{NodeId, ResumeMode};
use crate::outcome::Outcome;
use crate::syntax::{quote_str, SourceMap};
use crate::trace::{BoundaryKind, ContId, DispatchId, Event, ScopeId};
use crate::value::ValueView;

/// The traceback of `outcome`'s error; `None` unless the run ended with one.
pub fn render(trace: &[Event], outcome: &Outcome, map: Option<&SourceMap>) -> Option<String> {
    let Outcome::Error { error, .. } = outcome else { return None };
    let ix = Index::new(trace, map);
    let mut out = Out { text: String::from("traceback (most recent last):\n"), scopes: BTreeSet::new() };
    let flights = ix.path(error);
    if flights.is_empty() {
        out.text.push_str("  (the trace holds no raise or throw of this error)\n");
    }
    for (n, f) in flights.iter().enumerate() {
        ix.flight(f, n > 0, error, &mut out);
    }
    out.text.push_str(&outcome.render(map));
    out.text.push('\n');
    ix.legend(&mut out);
    Some(out.text)
}

/// One stretch of the error's path: `start` (a raise or a throw into a
/// continuation) up to the `catch` at `end`, or to the end of the run.
struct Flight {
    start: usize,
    end: Option<usize>,
    /// The task boundary crossed just before `start`, if any.
    boundary: Option<Boundary>,
}

/// A task whose error went on outside it: in a task that joined it, or out
/// of the scheduler.
struct Boundary {
    task: i64,
    /// Its `task-end` status, when marked.
    status: Option<String>,
    joined_by: Option<i64>,
}

struct Out {
    text: String,
    /// Scopes named so far, for the legend.
    scopes: BTreeSet<ScopeId>,
}

impl Out {
    /// A bare `s2`, in lists whose scopes the legend names.
    fn id(&mut self, s: ScopeId) -> String {
        self.scopes.insert(s);
        format!("s{s}")
    }
}

/// What the renderer looks up: everything comes from the events themselves.
struct Index<'a> {
    ev: &'a [Event],
    map: Option<&'a SourceMap>,
    installs: HashMap<ScopeId, (BoundaryKind, &'a str, Option<ScopeId>)>,
    performs: HashMap<DispatchId, (String, NodeId)>,
    /// Which dispatch and handler captured each continuation (`handle`).
    takers: HashMap<ContId, (DispatchId, ScopeId)>,
    unstarted: BTreeSet<ContId>,
    /// The running task at each event: the last `run` mark's, root 0 before
    /// any; none once that task's `task-end` is marked (it can do nothing more).
    task: Vec<Option<i64>>,
    /// Whether the trace has scheduler marks at all; without them no task is named.
    tasks: bool,
}

impl<'a> Index<'a> {
    fn new(ev: &'a [Event], map: Option<&'a SourceMap>) -> Index<'a> {
        let mut ix = Index {
            ev,
            map,
            installs: HashMap::new(),
            performs: HashMap::new(),
            takers: HashMap::new(),
            unstarted: BTreeSet::new(),
            task: Vec::with_capacity(ev.len()),
            tasks: false,
        };
        let mut cur = Some(0);
        for (i, e) in ev.iter().enumerate() {
            match e {
                Event::Install { scope, kind, name, copy_of } => {
                    ix.installs.insert(*scope, (*kind, name.as_str(), *copy_of));
                }
                Event::Perform { dispatch, effect, site } => {
                    let label = match effect {
                        ValueView::Effect { label, .. } => label.0.clone(),
                        other => other.to_string(),
                    };
                    ix.performs.insert(*dispatch, (label, *site));
                }
                Event::Handle { dispatch, scope, k } => {
                    ix.takers.insert(*k, (*dispatch, *scope));
                }
                Event::NewCont { k, .. } => {
                    ix.unstarted.insert(*k);
                }
                Event::Mark { tag, value } => {
                    ix.tasks |= matches!(tag.as_str(), "spawn" | "run" | "task-end");
                    if let ("run", ValueView::Int(t)) = (tag.as_str(), value) {
                        cur = Some(*t);
                    }
                }
                _ => {}
            }
            ix.task.push(cur);
            if cur.is_some_and(|t| ix.task_end(i, t).is_some()) {
                cur = None;
            }
        }
        ix
    }

    fn site(&self, n: NodeId) -> String {
        self.map.map_or(String::new(), |m| format!(" @{}", m.describe(n)))
    }

    /// A mark `tag (list a b)` at `i`, `b` an int (`spawn`, `join`) or a string (`task-end`).
    fn mark(&self, i: usize, want: &str) -> Option<(i64, &'a ValueView)> {
        match &self.ev[i] {
            Event::Mark { tag, value: ValueView::List(xs) } if tag == want => match xs.as_slice() {
                [ValueView::Int(a), b] => Some((*a, b)),
                _ => None,
            },
            _ => None,
        }
    }

    /// `(a, b)` of a `spawn (list child parent)` or `join (list waiter child)` mark.
    fn pair(&self, i: usize, want: &str) -> Option<(i64, i64)> {
        match self.mark(i, want)? {
            (a, ValueView::Int(b)) => Some((a, *b)),
            _ => None,
        }
    }

    /// The status of task `t` if event `i` is its `task-end (list t status)` mark.
    fn task_end(&self, i: usize, t: i64) -> Option<String> {
        match self.mark(i, "task-end")? {
            (x, ValueView::Str(s)) if x == t => Some(s.clone()),
            _ => None,
        }
    }

    fn is_start(&self, i: usize, e: &ValueView) -> bool {
        match &self.ev[i] {
            Event::Raise { error, .. } => error == e,
            Event::Resume { throw: true, value, .. } => value == e,
            _ => false,
        }
    }

    fn is_catch(&self, i: usize, e: &ValueView) -> bool {
        matches!(&self.ev[i], Event::Catch { error, .. } if error == e)
    }

    fn carries(&self, i: usize, e: &ValueView) -> bool {
        self.is_start(i, e)
            || match &self.ev[i] {
                Event::Catch { error, .. } | Event::Threw { error, .. } | Event::Unwind { error, .. } => error == e,
                _ => false,
            }
    }

    /// The flights of `e`, oldest first: from the last start back through
    /// the catch each one was linked to. Each step moves strictly backwards.
    fn path(&self, e: &ValueView) -> Vec<Flight> {
        let mut flights = Vec::new();
        let (mut limit, mut end) = (self.ev.len(), None);
        while let Some(start) = (0..limit).rev().find(|&i| self.is_start(i, e)) {
            let (catch, boundary) = self.predecessor(start, e);
            flights.push(Flight { start, end, boundary });
            match catch {
                Some(c) => (limit, end) = (c, Some(c)),
                None => break,
            }
        }
        flights.reverse();
        flights
    }

    /// The catch that the flight starting at `start` continues, and the task
    /// boundary between them.
    fn predecessor(&self, start: usize, e: &ValueView) -> (Option<usize>, Option<Boundary>) {
        let w = self.task[start];
        // A join handed a task's error to `w` since `w` last touched the error:
        // the better link, as it names the task the error came from.
        let since = (0..start).rev().find(|&i| self.task[i] == w && self.carries(i, e)).map_or(0, |i| i + 1);
        let join = (since..start).rev().find_map(|i| self.pair(i, "join").filter(|p| Some(p.0) == w).map(|p| (i, p.1)));
        if let (Some((j, child)), Some(w), true) = (join, w, self.tasks) {
            let catch = (0..j).rev().find(|&i| self.task[i] == Some(child) && self.is_catch(i, e));
            let status = (0..j).rev().find_map(|i| self.task_end(i, child));
            return (catch, Some(Boundary { task: child, status, joined_by: Some(w) }));
        }
        // Otherwise the link is value equality, the only one the trace offers:
        // an error caught and later raised or thrown again is the same error
        // (an equal error raised afresh after a caught one is linked too).
        let catch = (0..start).rev().find(|&i| self.is_catch(i, e));
        let boundary = catch.and_then(|c| {
            let t = self.task[c].filter(|_| self.tasks)?;
            let status = (c..start).find_map(|i| self.task_end(i, t))?;
            Some(Boundary { task: t, status: Some(status), joined_by: None })
        });
        (catch, boundary)
    }

    fn flight(&self, f: &Flight, linked: bool, e: &ValueView, out: &mut Out) {
        if let Some(b) = &f.boundary {
            self.boundary(b, f.start, out);
        }
        let line = match &self.ev[f.start] {
            Event::Raise { site, .. } => {
                let verb = if linked { "re-raise" } else { "raise" };
                format!("{verb}{}{}", self.site(*site), self.context(f.start, out))
            }
            Event::Resume { k, mode, .. } => {
                let form = match mode {
                    ResumeMode::Resume => "resume-throw",
                    ResumeMode::Transfer => "transfer-throw",
                };
                format!("{form} into {}", self.cont(*k, out))
            }
            _ => String::new(),
        };
        self.line(f.start, &line, &mut out.text);
        let last = f.end.unwrap_or(self.ev.len().saturating_sub(1));
        for i in f.start + 1..=last {
            let line = match &self.ev[i] {
                _ if !self.carries(i, e) => continue,
                Event::Unwind { scope, .. } => format!("left {}", self.scope(*scope, out)),
                Event::Threw { dispatch, scope, .. } => {
                    let steps = self.steps(*dispatch, i, out);
                    format!("{} threw on {}{steps}", self.scope(*scope, out), self.dispatch(*dispatch))
                }
                Event::Catch { site, .. } => format!("caught{}", self.site(*site)),
                _ => continue,
            };
            self.line(i, &line, &mut out.text);
        }
    }

    /// `── task 2 (spawned by task 1) failed → joined by task 1`
    fn boundary(&self, b: &Boundary, before: usize, out: &mut Out) {
        let t = b.task;
        let origin = match (0..before).find_map(|i| self.pair(i, "spawn").filter(|p| p.0 == t)) {
            Some((_, parent)) => format!(" (spawned by task {parent})"),
            None if t == 0 => " (root)".to_string(),
            None => String::new(),
        };
        let status = b.status.as_deref().unwrap_or("ended");
        // Cancelled: by the task running at its `cancel` mark, or by the
        // scheduler itself when none was (close-out).
        let cancel = |i: &usize| matches!(&self.ev[*i], Event::Mark { tag, value } if tag == "cancel" && *value == ValueView::Int(t));
        let by = match (0..before).rev().find(cancel).filter(|_| status == "cancelled") {
            Some(i) => self.task[i].map_or(" by the scheduler".to_string(), |c| format!(" by task {c}")),
            None => String::new(),
        };
        let joined = b.joined_by.map_or(String::new(), |w| format!(" → joined by task {w}"));
        let _ = writeln!(out.text, "  ── task {t}{origin} {status}{by}{joined}");
    }

    /// One hop, prefixed with its task when the run has tasks.
    fn line(&self, i: usize, s: &str, text: &mut String) {
        let _ = match (self.tasks, self.task[i]) {
            (false, _) => writeln!(text, "  {s}"),
            (true, Some(t)) => writeln!(text, "  task {t}: {s}"),
            (true, None) => writeln!(text, "  no task: {s}"),
        };
    }

    /// What happened just before a raise, when it tells why the raise came
    /// there: a continuation was reactivated, a clause returned, or an
    /// effect went unhandled. Adjacency is the whole link: nothing observable
    /// happened in between.
    fn context(&self, i: usize, out: &mut Out) -> String {
        match i.checked_sub(1).map(|p| &self.ev[p]) {
            Some(Event::Resume { k, mode, throw: false, .. }) => {
                let verb = match mode {
                    ResumeMode::Resume => "resume",
                    ResumeMode::Transfer => "transfer",
                };
                format!(", after {verb} {}", self.cont(*k, out))
            }
            Some(Event::Return { dispatch, scope, .. }) => {
                format!(", after {} returned on {}", self.scope(*scope, out), self.dispatch(*dispatch))
            }
            Some(Event::Unhandled { dispatch }) => {
                format!(": {} unhandled{}", self.dispatch(*dispatch), self.steps(*dispatch, i, out))
            }
            _ => String::new(),
        }
    }

    /// `d2 Ping @5:11`
    fn dispatch(&self, d: DispatchId) -> String {
        match self.performs.get(&d) {
            Some((label, site)) => format!("d{d} {label}{}", self.site(*site)),
            None => format!("d{d}"),
        }
    }

    /// `k2 (d2 Ping @5:11, taken by s3 "inner")`: where a continuation was captured.
    fn cont(&self, k: ContId, out: &mut Out) -> String {
        match self.takers.get(&k) {
            Some((d, s)) => format!("k{k} ({}, taken by {})", self.dispatch(*d), self.scope(*s, out)),
            None if self.unstarted.contains(&k) => format!("k{k} (unstarted, new-cont)"),
            None => format!("k{k}"),
        }
    }

    /// `s3 "inner"`, remembered for the legend.
    fn scope(&self, s: ScopeId, out: &mut Out) -> String {
        out.scopes.insert(s);
        match self.installs.get(&s) {
            Some((_, name, _)) => format!("s{s} {}", quote_str(name)),
            None => format!("s{s}"),
        }
    }

    /// What the boundaries did with dispatch `d` before event `upto`:
    /// ` (s2 intercepted, s1 took k1, k1 resumed)`.
    fn steps(&self, d: DispatchId, upto: usize, out: &mut Out) -> String {
        let mut steps = Vec::new();
        for e in &self.ev[..upto] {
            let step = match e {
                Event::Intercept { dispatch, scope, .. } if *dispatch == d => format!("{} intercepted", out.id(*scope)),
                Event::Observe { dispatch, scope } if *dispatch == d => format!("{} observed", out.id(*scope)),
                Event::Handle { dispatch, scope, k } if *dispatch == d => format!("{} took k{k}", out.id(*scope)),
                Event::Pass { dispatch, scope, k, .. } if *dispatch == d => format!("{} passed k{k}", out.id(*scope)),
                Event::Return { dispatch, scope, .. } if *dispatch == d => format!("{} returned", out.id(*scope)),
                // Who reactivated k is not in the trace, only that it was.
                Event::Resume { k, mode, throw, .. } if self.takers.get(k).is_some_and(|t| t.0 == d) => {
                    let verb = match (mode, throw) {
                        (ResumeMode::Resume, false) => "resumed",
                        (ResumeMode::Transfer, false) => "transferred",
                        (ResumeMode::Resume, true) => "resume-thrown",
                        (ResumeMode::Transfer, true) => "transfer-thrown",
                    };
                    format!("k{k} {verb}")
                }
                _ => continue,
            };
            steps.push(step);
        }
        if steps.is_empty() {
            String::new()
        } else {
            format!(" ({})", steps.join(", "))
        }
    }

    /// Every scope named, with its kind, name and the scope it copies (and
    /// that one's, down to the original: envelope copies made at spawn).
    fn legend(&self, out: &mut Out) {
        let mut all = BTreeSet::new();
        for &s in &out.scopes {
            let mut cur = Some(s);
            while let Some(c) = cur.filter(|c| all.insert(*c)) {
                cur = self.installs.get(&c).and_then(|i| i.2);
            }
        }
        if all.is_empty() {
            return;
        }
        out.text.push_str("scopes:\n");
        for s in all {
            let _ = match self.installs.get(&s) {
                Some((kind, name, copy)) => {
                    let copy = copy.map_or(String::new(), |c| format!(" copy-of s{c}"));
                    writeln!(out.text, "  s{s} {} {}{copy}", kind.name(), quote_str(name))
                }
                None => writeln!(out.text, "  s{s} (no install event)"),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn boom() -> ValueView {
        ValueView::error("boom", ValueView::Int(1))
    }

    fn mark(tag: &str, a: i64, b: ValueView) -> Event {
        Event::Mark { tag: tag.into(), value: ValueView::List(vec![ValueView::Int(a), b]) }
    }

    fn failed(site: NodeId) -> Outcome {
        Outcome::Error { error: boom(), site }
    }

    #[test]
    fn only_errors_have_a_traceback() {
        let raise = [Event::Raise { error: boom(), site: 3 }];
        assert_eq!(render(&raise, &Outcome::Value { value: ValueView::Unit }, None), None);
        assert_eq!(render(&raise, &Outcome::Exhausted { resource: crate::Resource::Fuel }, None), None);
    }

    #[test]
    fn an_empty_trace_still_names_the_error() {
        let tb = render(&[], &failed(0), None).unwrap();
        assert_eq!(
            tb,
            "traceback (most recent last):\n  (the trace holds no raise or throw of this error)\nerror (error \"boom\" 1)\n"
        );
    }

    #[test]
    fn a_caught_error_raised_again_is_one_path() {
        let ev = [
            Event::Install { scope: 1, kind: BoundaryKind::Handler, name: "h".into(), copy_of: None },
            Event::Raise { error: boom(), site: 5 },
            Event::Catch { error: boom(), site: 4 },
            Event::Raise { error: boom(), site: 7 },
            Event::Unwind { scope: 1, error: boom() },
        ];
        let tb = render(&ev, &failed(7), None).unwrap();
        assert_eq!(
            tb,
            "traceback (most recent last):\n  raise\n  caught\n  re-raise\n  left s1 \"h\"\n\
             error (error \"boom\" 1)\nscopes:\n  s1 handler \"h\"\n"
        );
    }

    /// Task 1 fails and task 0 joins it: the join is the link, not the more
    /// recent equal error task 0 raised and caught on its own before.
    #[test]
    fn a_join_links_the_child_failure() {
        let ev = [
            mark("spawn", 1, ValueView::Int(0)),
            Event::Mark { tag: "run".into(), value: ValueView::Int(1) },
            Event::Raise { error: boom(), site: 2 },
            Event::Catch { error: boom(), site: 3 },
            mark("task-end", 1, ValueView::str("failed")),
            Event::Mark { tag: "run".into(), value: ValueView::Int(0) },
            Event::Raise { error: boom(), site: 8 },
            Event::Catch { error: boom(), site: 9 },
            mark("join", 0, ValueView::Int(1)),
            Event::Raise { error: boom(), site: 4 },
        ];
        let tb = render(&ev, &failed(4), None).unwrap();
        let lines: Vec<&str> = tb.lines().collect();
        assert_eq!(
            lines,
            [
                "traceback (most recent last):",
                "  task 1: raise",
                "  task 1: caught",
                "  ── task 1 (spawned by task 0) failed → joined by task 0",
                "  task 0: re-raise",
                "error (error \"boom\" 1)",
            ]
        );
    }

    fn value() -> impl Strategy<Value = ValueView> {
        prop_oneof![
            Just(boom()),
            (-1i64..4).prop_map(ValueView::Int),
            Just(ValueView::str("failed")),
            (-1i64..4, -1i64..4).prop_map(|(a, b)| ValueView::List(vec![ValueView::Int(a), ValueView::Int(b)])),
            Just(ValueView::effect("Ping", ValueView::Unit)),
        ]
    }

    fn event() -> impl Strategy<Value = Event> {
        let tag = prop_oneof![Just("run"), Just("spawn"), Just("join"), Just("task-end"), Just("cancel"), Just("x")];
        let kind = prop_oneof![Just(BoundaryKind::Handler), Just(BoundaryKind::Intercept)];
        let mode = prop_oneof![Just(ResumeMode::Resume), Just(ResumeMode::Transfer)];
        prop_oneof![
            (0u32..4, kind, proptest::option::of(0u32..4)).prop_map(|(scope, kind, copy_of)| Event::Install {
                scope,
                kind,
                name: "n".into(),
                copy_of
            }),
            (0u32..4, value(), 0u32..9).prop_map(|(dispatch, effect, site)| Event::Perform { dispatch, effect, site }),
            (0u32..4, 0u32..4, 0u32..4).prop_map(|(dispatch, scope, k)| Event::Handle { dispatch, scope, k }),
            (0u32..4, 0u32..4, 0u32..4, value()).prop_map(|(dispatch, scope, k, effect)| Event::Pass {
                dispatch,
                scope,
                k,
                effect
            }),
            (0u32..4, 0u32..4, value()).prop_map(|(dispatch, scope, value)| Event::Return { dispatch, scope, value }),
            (0u32..4, 0u32..4, value()).prop_map(|(dispatch, scope, error)| Event::Threw { dispatch, scope, error }),
            (0u32..4, 0u32..4).prop_map(|(dispatch, scope)| Event::Intercept { dispatch, scope, effect: boom() }),
            (0u32..4).prop_map(|dispatch| Event::Unhandled { dispatch }),
            (0u32..4, mode, any::<bool>(), value()).prop_map(|(k, mode, throw, value)| Event::Resume {
                k,
                mode,
                throw,
                value
            }),
            (0u32..4).prop_map(|k| Event::NewCont { k, envelope: vec![k] }),
            (value(), 0u32..9).prop_map(|(error, site)| Event::Raise { error, site }),
            (value(), 0u32..9).prop_map(|(error, site)| Event::Catch { error, site }),
            (0u32..4, value()).prop_map(|(scope, error)| Event::Unwind { scope, error }),
            (tag, value()).prop_map(|(tag, value)| Event::Mark { tag: tag.into(), value }),
        ]
    }

    proptest! {
        /// Total: any list of events, however truncated or inconsistent, renders.
        #[test]
        fn any_trace_renders(ev in proptest::collection::vec(event(), 0..40), site in 0u32..12) {
            let map = SourceMap { spans: vec![Default::default(); 4], prelude: Some(("std".into(), 1, 3)), hosts: Vec::new() };
            let tb = render(&ev, &failed(site), Some(&map)).unwrap();
            prop_assert!(tb.starts_with("traceback (most recent last):\n"));
            prop_assert!(tb.contains("error (error \"boom\" 1)"));
        }
    }
}
