//! Interaction coverage: named situations that matter for these semantics
//! (a stale continuation reaching each continuation form, a semaphore
//! release with waiters queued, a cancel while parked, …), each counted per
//! engine like rule coverage. A rule can fire a thousand times without the
//! one combination in which a bug shows; these are those combinations.
//!
//! Every situation is read off a run's trace projection, output and the
//! program itself — never from engine internals — so all engines are
//! counted the same way, and engines that agree count alike. The trace is
//! walked once with a small model of the prelude's protocol: the running
//! task (`mark run`), which continuation each scheduler effect's clause got
//! (`handle … k`), whether that task parked (another `mark run` came before
//! its `resume`/`transfer`), priorities (`spawn-at`'s payload, then `mark
//! spawn`), the virtual clock (due times of awaits that fired).
//!
//! Grow the list whenever a bug slips through.

use std::collections::{HashMap, HashSet};

use kont_spec::ast::{ExprKind, Prim, ResumeMode};
use kont_spec::{Event, RunResult, ValueView};

use crate::gen::Case;

/// A named situation; `ALL` in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Situation {
    StaleResume,
    StaleTransfer,
    StaleResumeThrow,
    StaleTransferThrow,
    StalePass,
    StaleEnvelope,
    StaleEq,
    StaleLive,
    StaleCell,
    /// `release` while two or more tasks are queued on that semaphore.
    ReleaseTwoWaiters,
    /// `cancel` of a task parked on a promise / a task / a semaphore / a
    /// timer, while the root runs, with more scheduler effects afterwards.
    CancelParkedPromise,
    CancelParkedTask,
    CancelParkedSemaphore,
    CancelParkedAwait,
    /// A task cancelled on an await, then the clock read (`now`, `await`).
    CancelAwaitThenClock,
    /// A task cancelled while the root runs parks again afterwards.
    CancelledParksAgain,
    /// A parked task woken whose priority is not the default (10).
    WokenOtherPriority,
    /// Two parked awaits due at the same tick.
    TimersSameTick,
    /// Two cache keys that differ but `show` alike (`1` and `"1"`).
    CacheKeysShowAlike,
    /// An interceptor rewrites an effect to a label that a handler the
    /// dispatch already skipped (inside the interceptor) takes.
    InterceptToInnerLabel,
    /// `resume-throw`/`transfer-throw` into a `new-cont` continuation before it started.
    ThrowIntoUnstarted,
    /// A `gather` answered with a failure after it parked.
    GatherFailsAfterPark,
}

impl Situation {
    pub const ALL: &'static [Situation] = &[
        Situation::StaleResume,
        Situation::StaleTransfer,
        Situation::StaleResumeThrow,
        Situation::StaleTransferThrow,
        Situation::StalePass,
        Situation::StaleEnvelope,
        Situation::StaleEq,
        Situation::StaleLive,
        Situation::StaleCell,
        Situation::ReleaseTwoWaiters,
        Situation::CancelParkedPromise,
        Situation::CancelParkedTask,
        Situation::CancelParkedSemaphore,
        Situation::CancelParkedAwait,
        Situation::CancelAwaitThenClock,
        Situation::CancelledParksAgain,
        Situation::WokenOtherPriority,
        Situation::TimersSameTick,
        Situation::CacheKeysShowAlike,
        Situation::InterceptToInnerLabel,
        Situation::ThrowIntoUnstarted,
        Situation::GatherFailsAfterPark,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Situation::StaleResume => "stale-resume",
            Situation::StaleTransfer => "stale-transfer",
            Situation::StaleResumeThrow => "stale-resume-throw",
            Situation::StaleTransferThrow => "stale-transfer-throw",
            Situation::StalePass => "stale-pass",
            Situation::StaleEnvelope => "stale-envelope",
            Situation::StaleEq => "stale-eq",
            Situation::StaleLive => "stale-live",
            Situation::StaleCell => "stale-cell",
            Situation::ReleaseTwoWaiters => "release-2-waiters",
            Situation::CancelParkedPromise => "cancel-parked-promise",
            Situation::CancelParkedTask => "cancel-parked-task",
            Situation::CancelParkedSemaphore => "cancel-parked-semaphore",
            Situation::CancelParkedAwait => "cancel-parked-await",
            Situation::CancelAwaitThenClock => "cancel-await-then-clock",
            Situation::CancelledParksAgain => "cancelled-parks-again",
            Situation::WokenOtherPriority => "woken-other-priority",
            Situation::TimersSameTick => "timers-same-tick",
            Situation::CacheKeysShowAlike => "cache-keys-show-alike",
            Situation::InterceptToInnerLabel => "intercept-to-inner-label",
            Situation::ThrowIntoUnstarted => "throw-into-unstarted",
            Situation::GatherFailsAfterPark => "gather-fails-after-park",
        }
    }

    fn index(self) -> usize {
        Situation::ALL.iter().position(|s| *s == self).expect("listed")
    }
}

/// Programs in which each situation occurred (once per program at most).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SituationCounts(pub Vec<u64>);

impl Default for SituationCounts {
    fn default() -> SituationCounts {
        SituationCounts(vec![0; Situation::ALL.len()])
    }
}

impl SituationCounts {
    pub fn get(&self, s: Situation) -> u64 {
        self.0[s.index()]
    }

    pub fn add(&mut self, other: &SituationCounts) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += b;
        }
    }

    /// Count one run's situations.
    pub fn count(&mut self, found: &HashSet<Situation>) {
        for s in found {
            self.0[s.index()] += 1;
        }
    }

    /// The situations that never occurred.
    pub fn unseen(&self) -> Vec<Situation> {
        Situation::ALL.iter().copied().filter(|s| self.get(*s) == 0).collect()
    }

    /// `(name, count)` in report order.
    pub fn named(&self) -> Vec<(String, u64)> {
        Situation::ALL.iter().map(|s| (s.name().to_string(), self.get(*s))).collect()
    }
}

/// The scheduler effects after which a task may park.
const PARKING: &[&str] = &["Wait", "Gather", "Race", "Acquire", "Await", "Yield"];
const SCHEDULER: &[&str] = &[
    "Spawn",
    "TaskDone",
    "Wait",
    "Gather",
    "Race",
    "Cancel",
    "Yield",
    "NewPromise",
    "Settle",
    "NewSemaphore",
    "Acquire",
    "Release",
    "Await",
    "Now",
];
const CACHE: &[&str] = &["CachePut", "CacheGet", "CacheExists", "CacheDelete"];
const DEFAULT_PRIORITY: i64 = 10;

/// A scheduler effect's clause that got continuation `k`.
struct Pending<'a> {
    label: &'a str,
    payload: &'a ValueView,
    task: i64,
    parked: bool,
    /// For an await: when it is due.
    due: Option<i64>,
}

/// What a parked task waits for, for the cancel situations.
fn wait_kinds(label: &str, payload: &ValueView) -> Vec<Situation> {
    let handle_kind = |h: &ValueView| match h {
        ValueView::List(xs) if xs.len() == 2 => match &xs[0] {
            ValueView::Str(s) if s == "promise" => Some(Situation::CancelParkedPromise),
            ValueView::Str(s) if s == "task" => Some(Situation::CancelParkedTask),
            _ => None,
        },
        _ => None,
    };
    match label {
        "Acquire" => vec![Situation::CancelParkedSemaphore],
        "Await" => vec![Situation::CancelParkedAwait],
        "Wait" => handle_kind(payload).into_iter().collect(),
        "Gather" | "Race" => match payload {
            ValueView::List(hs) => hs.iter().filter_map(handle_kind).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn effect_parts(e: &ValueView) -> Option<(&str, &ValueView)> {
    match e {
        ValueView::Effect { label, payload } => Some((label.as_str(), payload)),
        _ => None,
    }
}

fn nth(v: &ValueView, i: usize) -> Option<&ValueView> {
    match v {
        ValueView::List(xs) => xs.get(i),
        _ => None,
    }
}

fn int(v: Option<&ValueView>) -> Option<i64> {
    match v {
        Some(ValueView::Int(i)) => Some(*i),
        _ => None,
    }
}

/// Whether an answer of the prelude's protocol is a failure.
fn failed(answer: &ValueView) -> bool {
    matches!(nth(answer, 0), Some(ValueView::Bool(false)))
}

/// The situations one run of `case` shows.
pub fn detect(case: &Case, r: &RunResult) -> HashSet<Situation> {
    let mut found = HashSet::new();
    stale(case, r, &mut found);
    Model::default().walk(r, &mut found);
    found
}

/// A stale continuation or cell reaching a form: the `stale` error raised
/// at a node of that form (K-Stale), or `=` on `prev` (which never raises).
fn stale(case: &Case, r: &RunResult, found: &mut HashSet<Situation>) {
    if case.before.is_none() {
        return;
    }
    // `prev` is the program's own variable (the prelude never names it).
    if prev_is_cont(case) {
        case.program.body.walk(&mut |e| {
            if let ExprKind::Prim { op: Prim::Eq, args } = &e.kind {
                if args.iter().any(|a| matches!(&a.kind, ExprKind::Var(x) if x == "prev")) {
                    found.insert(Situation::StaleEq);
                }
            }
        });
    }
    let sites: HashSet<u32> = r
        .trace
        .iter()
        .filter_map(|ev| match ev {
            Event::Raise { error: ValueView::Error { tag, .. }, site } if tag == "stale" => Some(*site),
            _ => None,
        })
        .collect();
    if sites.is_empty() {
        return;
    }
    // Sites are ids in the program as run (with the prelude, when wrapped).
    case.runnable().body.walk(&mut |e| {
        if !sites.contains(&e.id) {
            return;
        }
        let s = match &e.kind {
            ExprKind::Resume { mode: ResumeMode::Resume, throw: false, .. } => Situation::StaleResume,
            ExprKind::Resume { mode: ResumeMode::Transfer, throw: false, .. } => Situation::StaleTransfer,
            ExprKind::Resume { mode: ResumeMode::Resume, throw: true, .. } => Situation::StaleResumeThrow,
            ExprKind::Resume { mode: ResumeMode::Transfer, throw: true, .. } => Situation::StaleTransferThrow,
            ExprKind::Pass { .. } => Situation::StalePass,
            ExprKind::NewCont { .. } => Situation::StaleEnvelope,
            ExprKind::Prim { op: Prim::IsLive, .. } => Situation::StaleLive,
            ExprKind::Prim { op: Prim::Get | Prim::Set, .. } => Situation::StaleCell,
            _ => return,
        };
        found.insert(s);
    });
}

/// The first run hands over a continuation: its body is a handler (the
/// generator's parking programs return `k` from a clause) rather than a cell.
fn prev_is_cont(case: &Case) -> bool {
    case.before.as_ref().is_some_and(|b| matches!(b.body.kind, ExprKind::WithHandler(_)))
}

/// The scheduler's story told by one run's trace, borrowed from it (the walk
/// copies no label or payload). Every per-event step is constant time apart
/// from `Release` and `cancel` (a scan of the pending clauses): a run that
/// exhausts its fuel has 10⁵ events and as many clauses parked.
#[derive(Default)]
struct Model<'a> {
    cur: i64,
    root_ended: bool,
    clock: i64,
    prio: HashMap<i64, i64>,
    spawn_prio: i64,
    /// By the continuation the clause got.
    pending: HashMap<u32, Pending<'a>>,
    /// The pending clauses not yet parked (a `run` mark parks them).
    unparked: Vec<u32>,
    /// Due time → how many parked awaits are due then.
    due_count: HashMap<i64, usize>,
    /// Dispatch → (current label, payload, performing task).
    dispatch: HashMap<u32, (&'a str, &'a ValueView, i64)>,
    /// Dispatch → scopes it skipped so far.
    skipped: HashMap<u32, Vec<u32>>,
    /// Scope → labels it handled.
    handled: HashMap<u32, HashSet<&'a str>>,
    /// (label rewritten to, scopes skipped before the rewrite).
    rewrites: Vec<(&'a str, Vec<u32>)>,
    unstarted: HashSet<u32>,
    /// Tasks cancelled while parked (root running), waiting for more scheduling.
    cancelled_waiting: Vec<Situation>,
    cancelled_on_await: bool,
    cancelled: HashSet<i64>,
    cache_keys: Vec<&'a ValueView>,
}

impl<'a> Model<'a> {
    fn walk(mut self, r: &'a RunResult, found: &mut HashSet<Situation>) {
        for ev in &r.trace {
            self.event(ev, found);
        }
        for (to, skipped) in &self.rewrites {
            if skipped.iter().any(|s| self.handled.get(s).is_some_and(|ls| ls.contains(to))) {
                found.insert(Situation::InterceptToInnerLabel);
            }
        }
        // Two different keys that show alike: some key differs from the
        // first one shown the same way (values have no NaN: `==` is an equivalence).
        let mut first_shown: HashMap<String, &ValueView> = HashMap::new();
        for key in &self.cache_keys {
            let first = *first_shown.entry(key.show()).or_insert(key);
            if first != *key {
                found.insert(Situation::CacheKeysShowAlike);
                break;
            }
        }
    }

    fn parked_on(&self, label: &str, payload: &ValueView) -> usize {
        self.pending.values().filter(|p| p.parked && p.label == label && p.payload == payload).count()
    }

    /// A pending clause leaves (its continuation resumed, or its id reused).
    fn unpend(&mut self, p: &Pending<'a>) {
        if let (true, Some(due)) = (p.parked, p.due) {
            if let Some(n) = self.due_count.get_mut(&due) {
                *n -= 1;
            }
        }
    }

    fn event(&mut self, ev: &'a Event, found: &mut HashSet<Situation>) {
        match ev {
            Event::Perform { dispatch, effect, .. } => {
                let Some((label, payload)) = effect_parts(effect) else { return };
                self.dispatch.insert(*dispatch, (label, payload, self.cur));
                if SCHEDULER.contains(&label) && !self.root_ended {
                    found.extend(self.cancelled_waiting.drain(..));
                }
                match label {
                    "Release" if self.parked_on("Acquire", payload) >= 2 => {
                        found.insert(Situation::ReleaseTwoWaiters);
                    }
                    "Now" | "Await" if self.cancelled_on_await => {
                        found.insert(Situation::CancelAwaitThenClock);
                    }
                    "Spawn" => self.spawn_prio = int(nth(payload, 1)).unwrap_or(DEFAULT_PRIORITY),
                    "CachePut" => self.cache_keys.extend(nth(payload, 0)),
                    l if CACHE.contains(&l) => self.cache_keys.push(payload),
                    _ => {}
                }
            }
            Event::Handle { dispatch, scope, k } => {
                let Some(&(label, payload, task)) = self.dispatch.get(dispatch) else { return };
                self.handled.entry(*scope).or_default().insert(label);
                if PARKING.contains(&label) {
                    let p = Pending { label, payload, task, parked: false, due: None };
                    if let Some(old) = self.pending.insert(*k, p) {
                        self.unpend(&old);
                    }
                    self.unparked.push(*k);
                }
            }
            Event::Skip { dispatch, scope } => self.skipped.entry(*dispatch).or_default().push(*scope),
            Event::Intercept { dispatch, effect, .. } | Event::Pass { dispatch, effect, .. } => {
                let Some((to, new_payload)) = effect_parts(effect) else { return };
                if let Some((label, payload, _)) = self.dispatch.get_mut(dispatch) {
                    if *label != to && matches!(ev, Event::Intercept { .. }) {
                        let skipped = self.skipped.get(dispatch).cloned().unwrap_or_default();
                        self.rewrites.push((to, skipped));
                    }
                    *label = to;
                    *payload = new_payload;
                }
            }
            Event::NewCont { k, .. } => {
                self.unstarted.insert(*k);
            }
            Event::Resume { k, throw, value, .. } => {
                if self.unstarted.remove(k) && *throw {
                    found.insert(Situation::ThrowIntoUnstarted);
                }
                if let Some(p) = self.pending.remove(k) {
                    self.unpend(&p);
                    if p.parked {
                        if self.prio.get(&p.task).copied().unwrap_or(DEFAULT_PRIORITY) != DEFAULT_PRIORITY {
                            found.insert(Situation::WokenOtherPriority);
                        }
                        if p.label == "Gather" && failed(value) {
                            found.insert(Situation::GatherFailsAfterPark);
                        }
                        if let Some(due) = p.due.filter(|_| !self.cancelled.contains(&p.task)) {
                            self.clock = self.clock.max(due);
                        }
                    }
                }
            }
            Event::Mark { tag, value } => self.mark(tag, value, found),
            _ => {}
        }
    }

    fn mark(&mut self, tag: &str, value: &ValueView, found: &mut HashSet<Situation>) {
        match tag {
            "run" => {
                // Every clause still holding its continuation has parked.
                let clock = self.clock;
                let mut newly = Vec::new();
                for k in std::mem::take(&mut self.unparked) {
                    let Some(p) = self.pending.get_mut(&k).filter(|p| !p.parked) else { continue };
                    p.parked = true;
                    if p.label == "Await" {
                        p.due = int(nth(p.payload, 0)).map(|t| clock + t);
                    }
                    if let Some(due) = p.due {
                        *self.due_count.entry(due).or_default() += 1;
                    }
                    newly.push(k);
                }
                for k in newly {
                    let p = &self.pending[&k];
                    if self.cancelled.contains(&p.task) && !self.root_ended {
                        found.insert(Situation::CancelledParksAgain);
                    }
                    // Another parked clause is due at the same tick.
                    if p.due.is_some_and(|due| self.due_count[&due] >= 2) {
                        found.insert(Situation::TimersSameTick);
                    }
                }
                if let Some(t) = int(Some(value)) {
                    self.cur = t;
                }
            }
            "spawn" => {
                if let Some(t) = int(nth(value, 0)) {
                    self.prio.insert(t, self.spawn_prio);
                }
            }
            "cancel" => {
                let Some(t) = int(Some(value)) else { return };
                if self.root_ended || t == self.cur {
                    return;
                }
                let parked: Vec<(&str, &ValueView)> =
                    self.pending.values().filter(|p| p.parked && p.task == t).map(|p| (p.label, p.payload)).collect();
                for (label, payload) in parked {
                    self.cancelled_waiting.extend(wait_kinds(label, payload));
                    self.cancelled_on_await |= label == "Await";
                }
                self.cancelled.insert(t);
            }
            "task-end" if int(nth(value, 0)) == Some(0) => self.root_ended = true,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::{with_std, Case, Features};
    use kont_spec::{Engine, Limits, RunOptions};

    fn detect_in(source: &str, before: Option<&str>, prelude: bool) -> HashSet<Situation> {
        let parse = |s: &str| kont_spec::parse_program(s).expect("parses").0;
        let mut program = parse(source);
        if before.is_some() {
            program.inputs = vec!["prev".into()];
        }
        let case = Case {
            program,
            before: before.map(parse),
            limits: Limits { fuel: 400_000, depth: 20_000, memory: Limits::DEFAULT.memory },
            features: Features::default(),
            prelude,
        };
        let runnable = if prelude { with_std(&case.program) } else { case.program.clone() };
        let options = RunOptions { trace: true };
        let r = match &case.before {
            None => kont_reference::Reference.run(&runnable, case.limits, options),
            Some(b) => kont_reference::Reference.run_after(b, &runnable, case.limits, options).expect("a first value"),
        };
        detect(&case, &r)
    }

    const PARK_K: &str = "(with-handler ((A (x k) k)) (do (perform A 1) 2))";

    #[test]
    fn a_plain_program_shows_nothing() {
        assert!(detect_in("(+ 1 2)", None, false).is_empty());
        // Resuming a continuation of this run is no stale use.
        assert!(detect_in("(with-handler ((A (x k) (resume k 1))) (perform A 0))", None, false).is_empty());
    }

    #[test]
    fn stale_uses_are_told_apart_by_form() {
        let t = |src: &str| detect_in(&format!("(try {src} (catch e 0))"), Some(PARK_K), false);
        assert_eq!(t("(transfer prev 1)"), HashSet::from([Situation::StaleTransfer]));
        assert_eq!(t("(resume-throw prev (error \"x\" 1))"), HashSet::from([Situation::StaleResumeThrow]));
        assert_eq!(t("(live? prev)"), HashSet::from([Situation::StaleLive]));
        assert_eq!(t("(resume (new-cont (fn (z) z) prev) 1)"), HashSet::from([Situation::StaleEnvelope]));
        // A cell from the first run is not a continuation: `=` on it is not counted.
        assert!(detect_in("(if (= prev prev) 1 2)", Some("(new-cell 1)"), false).is_empty());
        assert_eq!(detect_in("(if (= prev prev) 1 2)", Some(PARK_K), false), HashSet::from([Situation::StaleEq]));
    }

    #[test]
    fn scheduler_situations_need_the_scene() {
        let contention = "(run-scheduled (fn (_)
            (let ((s (new-semaphore 1)))
              (do (acquire s)
                  (let ((a (spawn (fn (_) (do (acquire s) (release s) 1)))))
                    (let ((b (spawn (fn (_) (do (acquire s) (release s) 2)))))
                      (do (yield) (release s) (+ (wait a) (wait b)))))))))";
        assert!(detect_in(contention, None, true).contains(&Situation::ReleaseTwoWaiters));
        // One waiter only: no release with two queued.
        let single = "(run-scheduled (fn (_)
            (let ((s (new-semaphore 1)))
              (do (acquire s)
                  (let ((a (spawn (fn (_) (do (acquire s) (release s) 1)))))
                    (do (yield) (release s) (wait a)))))))";
        assert!(!detect_in(single, None, true).contains(&Situation::ReleaseTwoWaiters));
        let cancel = "(run-scheduled (fn (_)
            (let ((p (new-promise)))
              (let ((t (spawn (fn (_) (wait p)))))
                (do (yield) (cancel t) (complete p 1) (try (wait t) (catch e 0)))))))";
        let found = detect_in(cancel, None, true);
        assert!(found.contains(&Situation::CancelParkedPromise), "{found:?}");
        assert!(!found.contains(&Situation::CancelParkedAwait), "{found:?}");
    }

    #[test]
    fn timers_at_the_same_tick_need_two_parked_at_once() {
        let two = |a: u32, b: u32| {
            format!(
                "(run-scheduled (fn (_)
                  (let ((x (spawn (fn (_) (await {a} 1)))) (y (spawn (fn (_) (await {b} 2)))))
                    (+ (wait x) (wait y)))))"
            )
        };
        assert!(detect_in(&two(3, 3), None, true).contains(&Situation::TimersSameTick));
        assert!(!detect_in(&two(3, 4), None, true).contains(&Situation::TimersSameTick));
        // The first timer has fired (and left) before the second, due at
        // the same tick, parks.
        let apart = "(run-scheduled (fn (_)
            (let ((x (spawn (fn (_) (await 2 1)))))
              (do (wait x) (let ((y (spawn (fn (_) (await 0 2))))) (wait y))))))";
        assert!(!detect_in(apart, None, true).contains(&Situation::TimersSameTick));
    }

    #[test]
    fn cache_keys_show_alike_only_when_they_differ() {
        let keys = |a: &str, b: &str| {
            format!("(run-scheduled (fn (_) (with-cache (fn (_) (cache-put {a} 1) (cache-exists {b})))))")
        };
        assert!(detect_in(&keys("\"1\"", "1"), None, true).contains(&Situation::CacheKeysShowAlike));
        assert!(!detect_in(&keys("1", "1"), None, true).contains(&Situation::CacheKeysShowAlike));
        assert!(!detect_in(&keys("1", "2"), None, true).contains(&Situation::CacheKeysShowAlike));
    }
}
