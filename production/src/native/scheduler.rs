//! The native scheduler: `run-scheduled`'s clauses (spec/prelude/std.kont,
//! SPEC.md §13.1) in Rust. Every function here is named after, and does what,
//! the prelude function of the same name does; the data is the same with
//! Rust types (a priority map of FIFO queues for the ready list, an ordered
//! map for timers). A task is its continuation: the scheduler only moves
//! continuations between its queues and transfers to them.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::rc::Rc;

use kont_spec::{NodeId, ValueView};

use super::{await_op, clock_fits, err, int_between, items, list_of_len, ok, outcome, refuse, Clause, Reply};
use crate::continuation::Continuation;
use crate::faults::{self, Fault};
use crate::machine::{Flow, Machine};
use crate::value::Value;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    New,
    Ready,
    Running,
    Parked,
    Done,
    Failed,
    Cancelled,
}

impl Status {
    fn terminal(self) -> bool {
        matches!(self, Status::Done | Status::Failed | Status::Cancelled)
    }

    fn name(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Ready => "ready",
            Status::Running => "running",
            Status::Parked => "parked",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }
}

/// `(list "task" n)` or `(list "promise" n)`, validated.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Handle {
    Task(u32),
    Promise(u32),
}

impl Handle {
    fn value(self) -> Value {
        match self {
            Handle::Task(t) => task_handle(t),
            Handle::Promise(p) => Value::list(vec![Value::shared_str("promise"), Value::Int(p as i64)]),
        }
    }

    fn describe(self) -> String {
        match self {
            Handle::Task(t) => format!("task {t}"),
            Handle::Promise(p) => format!("promise {p}"),
        }
    }
}

/// What a parked task waits for.
enum Waiting {
    Wait(Handle),
    /// The handles, and how many distinct ones are still pending.
    Gather(Vec<Handle>, usize),
    Race(Vec<Handle>),
    Acquire(u32),
    Await(i64),
}

impl Waiting {
    /// "wait promise 0", as the prelude's `stuck-message` shows it.
    fn describe(&self) -> String {
        let list = |hs: &[Handle]| hs.iter().map(|h| h.describe()).collect::<Vec<_>>().join(", ");
        match self {
            Waiting::Wait(h) => format!("wait {}", h.describe()),
            Waiting::Gather(hs, _) => format!("gather {}", list(hs)),
            Waiting::Race(hs) => format!("race {}", list(hs)),
            Waiting::Acquire(s) => format!("acquire semaphore {s}"),
            Waiting::Await(ticks) => format!("await ticks {ticks}"),
        }
    }
}

/// A registration: task `tid` waiting in generation `gen`.
type Waiter = (u32, u32);

struct Task {
    status: Status,
    value: Value,
    prio: i64,
    waiters: Vec<Waiter>,
    k: Option<Rc<Continuation>>,
    waiting: Option<Waiting>,
    cancel: bool,
    gen: u32,
}

struct Ready {
    tid: u32,
    k: Rc<Continuation>,
    answer: Value,
}

#[derive(PartialEq, Eq)]
enum Settled {
    Pending,
    Done,
    Failed,
}

struct Promise {
    status: Settled,
    value: Value,
    waiters: Vec<Waiter>,
}

struct Semaphore {
    permits: i64,
    max: i64,
    queue: VecDeque<Waiter>,
}

struct Timer {
    tid: u32,
    gen: u32,
    answer: Value,
}

/// What a gather of some handles gives now.
enum Gathered {
    Pending,
    Ok(Vec<Value>),
    Err(Value, Handle),
}

pub struct Scheduler {
    tasks: Vec<Task>,
    /// Higher priority first, FIFO within one.
    ready: BTreeMap<Reverse<i64>, VecDeque<Ready>>,
    cur: u32,
    promises: Vec<Promise>,
    sems: Vec<Semaphore>,
    /// By due time, then registration order.
    timers: BTreeMap<(i64, u64), Timer>,
    timer_seq: u64,
    clock: i64,
    close_next: u32,
}

fn task_handle(t: u32) -> Value {
    Value::list(vec![Value::shared_str("task"), Value::Int(t as i64)])
}

/// `(error-tag v)` as the prelude's `finish` reads it: a kont error's tag,
/// or the tag of a host error made from one (Python re-raised a cancellation).
fn error_tag(v: &Value) -> Option<String> {
    match v {
        Value::Error(e) => Some(e.tag.as_str().to_string()),
        Value::Host(h) => h.error_tag(),
        _ => None,
    }
}

fn cancelled_error(t: u32) -> Value {
    Value::error("cancelled", task_handle(t))
}

/// `(handle? x kind)`: the index.
fn handle_index(x: &Value, kind: &str) -> Option<i64> {
    let xs = list_of_len(x, 2)?;
    match &xs[0] {
        Value::Str(s) if s.as_str() == kind => int_between(&xs[1], 0, 1_000_000_000_000),
        _ => None,
    }
}

impl Scheduler {
    /// The state `run-scheduled` starts with: the root task running.
    pub fn new() -> Scheduler {
        Scheduler {
            tasks: vec![Task {
                status: Status::Running,
                value: Value::Unit,
                prio: 10,
                waiters: Vec::new(),
                k: None,
                waiting: None,
                cancel: false,
                gen: 0,
            }],
            ready: BTreeMap::new(),
            cur: 0,
            promises: Vec::new(),
            sems: Vec::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            clock: 0,
            close_next: 1,
        }
    }

    /// The clause for `label`.
    pub fn clause(&mut self, m: &mut Machine, label: &str, x: Value, k: Rc<Continuation>, site: NodeId) -> Clause {
        Flow::Continue(match label {
            "Spawn" => return self.spawn(m, x, k, site),
            "TaskDone" => match outcome(&x) {
                None => refuse(k, "bad-payload", x),
                Some((good, v)) => {
                    let v = v.clone();
                    self.finish(m, self.cur, good, v);
                    self.next(m)
                }
            },
            "Wait" => match self.valid_handle(&x) {
                None => refuse(k, "not-a-handle", x),
                Some(h) => match self.settled(h) {
                    Some(o) => self.reply(m, k, h, o),
                    None => {
                        let tid = self.park(k, Waiting::Wait(h));
                        self.register(tid, &[h]);
                        self.next(m)
                    }
                },
            },
            "Gather" => match self.all_valid(&x) {
                None => refuse(k, "not-a-handle", x),
                Some(hs) => match self.gather_state(&hs) {
                    Gathered::Ok(vs) => Reply::Transfer(k, ok(Value::list(vs))),
                    Gathered::Err(e, h) => self.reply(m, k, h, (false, e)),
                    Gathered::Pending => {
                        let tid = self.park(k, Waiting::Gather(hs.clone(), 0));
                        let pending = self.register(tid, &hs);
                        if let Some(Waiting::Gather(_, remaining)) = &mut self.tasks[tid as usize].waiting {
                            *remaining = pending;
                        }
                        self.next(m)
                    }
                },
            },
            "Race" => match self.all_valid(&x) {
                None => refuse(k, "not-a-handle", x),
                Some(hs) if hs.is_empty() => refuse(k, "empty-race", x),
                Some(hs) => match hs.iter().find_map(|&h| self.settled(h).map(|o| (h, o))) {
                    Some((h, o)) => self.reply(m, k, h, o),
                    None => {
                        let tid = self.park(k, Waiting::Race(hs.clone()));
                        self.register(tid, &hs);
                        self.next(m)
                    }
                },
            },
            "Cancel" => match self.valid_handle(&x) {
                Some(Handle::Task(t)) if t == self.cur => {
                    // Cancelling yourself: the error is raised at the cancel.
                    m.native_mark("cancel", || ValueView::Int(t as i64));
                    self.tasks[t as usize].cancel = true;
                    Reply::Transfer(k, err(cancelled_error(t)))
                }
                Some(Handle::Task(t)) => {
                    self.cancel_other(m, t);
                    Reply::Transfer(k, ok(Value::Unit))
                }
                _ => refuse(k, "not-a-handle", x),
            },
            "Yield" => {
                let cur = self.cur;
                self.tasks[cur as usize].status = Status::Ready;
                self.enqueue(cur, k, ok(Value::Unit));
                self.next(m)
            }
            "NewPromise" => {
                self.promises.push(Promise { status: Settled::Pending, value: Value::Unit, waiters: Vec::new() });
                Reply::Transfer(k, ok(Handle::Promise(self.promises.len() as u32 - 1).value()))
            }
            "Settle" => {
                let parsed = list_of_len(&x, 2)
                    .and_then(|xs| Some((self.valid_promise(&xs[0])?, outcome(&xs[1])?)))
                    .map(|(p, (good, v))| (p, good, v.clone()));
                match parsed {
                    None => refuse(k, "bad-payload", x),
                    Some((p, good, v)) => {
                        let promise = &mut self.promises[p as usize];
                        if promise.status != Settled::Pending {
                            let h = list_of_len(&x, 2).expect("validated")[0].clone();
                            refuse(k, "promise-settled", h)
                        } else {
                            promise.status = if good { Settled::Done } else { Settled::Failed };
                            promise.value = v;
                            self.notify(m, Handle::Promise(p));
                            Reply::Transfer(k, ok(Value::Unit))
                        }
                    }
                }
            }
            "NewSemaphore" => match int_between(&x, 1, 1_000_000_000_000) {
                None => refuse(k, "bad-permits", x),
                Some(n) => {
                    self.sems.push(Semaphore { permits: n, max: n, queue: VecDeque::new() });
                    let h = Value::list(vec![Value::shared_str("semaphore"), Value::Int(self.sems.len() as i64 - 1)]);
                    Reply::Transfer(k, ok(h))
                }
            },
            "Acquire" => match self.valid_semaphore(&x) {
                None => refuse(k, "not-a-handle", x),
                Some(i) if self.sems[i as usize].permits > 0 => {
                    self.sems[i as usize].permits -= 1;
                    Reply::Transfer(k, ok(Value::Unit))
                }
                Some(i) => {
                    let tid = self.park(k, Waiting::Acquire(i));
                    let gen = self.tasks[tid as usize].gen;
                    self.sems[i as usize].queue.push_back((tid, gen));
                    self.next(m)
                }
            },
            "Release" => match self.valid_semaphore(&x) {
                None => refuse(k, "not-a-handle", x),
                Some(i) => {
                    let sem = &mut self.sems[i as usize];
                    let next =
                        if faults::active(Fault::SemaphoreLifo) { sem.queue.pop_back() } else { sem.queue.pop_front() };
                    if let Some((w, gen)) = next {
                        // Direct hand-off to the oldest waiter: the count stays.
                        self.wake(w, Some(gen), ok(Value::Unit));
                        Reply::Transfer(k, ok(Value::Unit))
                    } else if sem.permits == sem.max {
                        refuse(k, "over-release", x)
                    } else {
                        sem.permits += 1;
                        Reply::Transfer(k, ok(Value::Unit))
                    }
                }
            },
            "Await" => match await_op(&x) {
                None => refuse(k, "bad-payload", x),
                Some((ticks, _)) if !clock_fits(self.clock, ticks) => refuse(k, "clock-overflow", x),
                Some((ticks, answer)) => {
                    let tid = self.park(k, Waiting::Await(ticks));
                    let due = self.clock + ticks;
                    let gen = self.tasks[tid as usize].gen;
                    self.timer_seq += 1;
                    // `SameTickTimersLifo`: newer timers sort first within a tick.
                    let seq = if faults::active(Fault::SameTickTimersLifo) {
                        u64::MAX - self.timer_seq
                    } else {
                        self.timer_seq
                    };
                    self.timers.insert((due, seq), Timer { tid, gen, answer });
                    self.next(m)
                }
            },
            "Now" => Reply::Transfer(k, ok(Value::Int(self.clock))),
            other => unreachable!("the standard scheduler has no clause for {other}"),
        })
    }

    fn spawn(&mut self, m: &mut Machine, arg: Value, k: Rc<Continuation>, site: NodeId) -> Clause {
        // (valid-spawn? arg): a function of one parameter and a priority.
        let valid = list_of_len(&arg, 2).and_then(|xs| {
            let prio = int_between(&xs[1], -1_000_000, 1_000_000)?;
            (m.arity_of(&xs[0]) == Some(1)).then(|| (xs[0].clone(), prio))
        });
        let Some((body, prio)) = valid else { return Flow::Continue(refuse(k, "bad-payload", arg)) };
        let tid = self.tasks.len() as u32;
        let parent = self.cur;
        self.tasks.push(Task {
            status: Status::New,
            value: Value::Unit,
            prio,
            waiters: Vec::new(),
            k: None,
            waiting: None,
            cancel: false,
            gen: 0,
        });
        // (new-cont body k): the child runs under copies of k's boundaries.
        let child = m.envelope_cont(body, &k, site)?;
        m.native_mark("spawn", || ValueView::List(vec![ValueView::Int(tid as i64), ValueView::Int(parent as i64)]));
        self.enqueue(tid, child, Value::Unit);
        self.tasks[parent as usize].status = Status::Ready;
        self.enqueue(parent, k, ok(task_handle(tid)));
        Flow::Continue(self.next(m))
    }

    // ------------------------------------------------------------ queues

    fn enqueue(&mut self, tid: u32, k: Rc<Continuation>, answer: Value) {
        let prio = self.tasks[tid as usize].prio;
        self.ready.entry(Reverse(prio)).or_default().push_back(Ready { tid, k, answer });
    }

    /// Take task `t`'s entry off the ready queue; its continuation.
    fn drop_ready(&mut self, t: u32) -> Rc<Continuation> {
        let prio = Reverse(self.tasks[t as usize].prio);
        let q = self.ready.get_mut(&prio).expect("a queued task's priority has a queue");
        let i = q.iter().position(|e| e.tid == t).expect("the task is queued");
        let e = q.remove(i).expect("in range");
        if q.is_empty() {
            self.ready.remove(&prio);
        }
        e.k
    }

    fn pop_ready(&mut self) -> Option<Ready> {
        let mut first = self.ready.first_entry()?;
        let e = first.get_mut().pop_front();
        if first.get().is_empty() {
            first.remove();
        }
        e
    }

    /// Park the running task: its continuation waits for `waiting`.
    fn park(&mut self, k: Rc<Continuation>, waiting: Waiting) -> u32 {
        let tid = self.cur;
        let t = &mut self.tasks[tid as usize];
        t.status = Status::Parked;
        t.k = Some(k);
        t.waiting = Some(waiting);
        t.gen += 1;
        tid
    }

    /// Wake a parked task if it is still parked in generation `gen` (`None`: any).
    fn wake(&mut self, tid: u32, gen: Option<u32>, answer: Value) {
        let t = &mut self.tasks[tid as usize];
        if t.status == Status::Parked && gen.is_none_or(|g| g == t.gen) {
            t.status = Status::Ready;
            t.waiting = None;
            let k = t.k.take().expect("a parked task has its continuation");
            if faults::active(Fault::WakeAtDefaultPriority) {
                self.ready.entry(Reverse(10)).or_default().push_back(Ready { tid, k, answer });
                return;
            }
            self.enqueue(tid, k, answer);
        }
    }

    /// Wake a parked task with an error, out of semaphore queues and timers first.
    fn interrupt(&mut self, t: u32, e: Value) {
        self.unqueue(t);
        self.wake(t, None, err(e));
    }

    /// Remove task `t` from semaphore queues and timers.
    fn unqueue(&mut self, t: u32) {
        if !faults::active(Fault::CancelLeavesSemaphoreQueue) {
            for sem in &mut self.sems {
                sem.queue.retain(|&(w, _)| w != t);
            }
        }
        if !faults::active(Fault::CancelLeavesTimer) {
            self.timers.retain(|_, timer| timer.tid != t);
        }
    }

    // -------------------------------------------------------- dispatcher

    /// `next`: close-out once the root has ended; then run the next ready
    /// task; else the earliest timer, deadlock, or the root's outcome, in
    /// that order (SPEC.md §13.1).
    fn next(&mut self, m: &mut Machine) -> Reply {
        loop {
            let root_ended = self.tasks[0].status.terminal();
            if root_ended {
                self.close_out(m);
            }
            if let Some(e) = self.pop_ready() {
                self.cur = e.tid;
                self.tasks[e.tid as usize].status = Status::Running;
                m.native_mark("run", || ValueView::Int(e.tid as i64));
                return Reply::Transfer(e.k, e.answer);
            }
            if let Some(((due, _), timer)) = self.timers.pop_first() {
                self.clock = due;
                let gen = if faults::active(Fault::CancelLeavesTimer) { None } else { Some(timer.gen) };
                self.wake(timer.tid, gen, timer.answer);
            } else if !root_ended && self.settle_external(m) {
                // The host settled promises from outside (SPEC.md §14.9): their waiters are ready.
            } else if !root_ended {
                debug_assert_eq!(self.tasks[0].status, Status::Parked, "a running root is never deadlocked");
                let e = Value::error("deadlock", Value::str(&self.stuck_message()));
                self.interrupt(0, e);
            } else {
                let root = &self.tasks[0];
                return Reply::Return(Value::list(vec![Value::Bool(root.status == Status::Done), root.value.clone()]));
            }
        }
    }

    /// Every task is parked and no timer is due: let the host settle pending
    /// promises from outside (a host run's awaits, SPEC.md §14.9). Whether
    /// it settled any.
    fn settle_external(&mut self, m: &mut Machine) -> bool {
        let Some(settled) = m.wait_external() else { return false };
        let mut any = false;
        for (p, good, v) in settled {
            let Some(promise) = self.promises.get_mut(p as usize) else { continue };
            if promise.status != Settled::Pending || (!good && !v.is_error()) {
                continue;
            }
            promise.status = if good { Settled::Done } else { Settled::Failed };
            promise.value = v;
            self.notify(m, Handle::Promise(p));
            any = true;
        }
        any
    }

    /// Cancel, lowest id first, every task from `close_next` on (each once).
    fn close_out(&mut self, m: &mut Machine) {
        while (self.close_next as usize) < self.tasks.len() {
            let t = self.close_next;
            self.close_next += 1;
            self.cancel_other(m, t);
        }
    }

    fn stuck_message(&self) -> String {
        let lines: Vec<String> = self
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.status == Status::Parked)
            .map(|(i, t)| {
                let who = if i == 0 { "root".to_string() } else { format!("task {i}") };
                format!("{who} ({})", t.waiting.as_ref().expect("a parked task waits").describe())
            })
            .collect();
        format!("scheduler deadlock: {}", lines.join("; "))
    }

    // ------------------------------------------------------------ outcomes

    /// The outcome of a settled handle, `None` when pending.
    fn settled(&self, h: Handle) -> Option<(bool, Value)> {
        match h {
            Handle::Task(t) => {
                let t = &self.tasks[t as usize];
                t.status.terminal().then(|| (t.status == Status::Done, t.value.clone()))
            }
            Handle::Promise(p) => {
                let p = &self.promises[p as usize];
                (p.status != Settled::Pending).then(|| (p.status == Settled::Done, p.value.clone()))
            }
        }
    }

    fn waiters(&mut self, h: Handle) -> &mut Vec<Waiter> {
        match h {
            Handle::Task(t) => &mut self.tasks[t as usize].waiters,
            Handle::Promise(p) => &mut self.promises[p as usize].waiters,
        }
    }

    /// Register the (just parked) task `tid` as a waiter on each pending
    /// handle; how many distinct ones there are. The prelude registers a
    /// repeated handle once per occurrence, but the later entries can never
    /// do anything (the first one settles the waiter's fate, and nothing
    /// settles in between), so registering it once is the same.
    fn register(&mut self, tid: u32, hs: &[Handle]) -> usize {
        let gen = self.tasks[tid as usize].gen;
        let mut seen = HashSet::with_capacity(hs.len());
        let mut pending = 0;
        for &h in hs {
            if seen.insert(h) && self.settled(h).is_none() {
                self.waiters(h).push((tid, gen));
                pending += 1;
            }
        }
        pending
    }

    /// The first failed handle in input order wins; all done gives the values.
    fn gather_state(&self, hs: &[Handle]) -> Gathered {
        let mut values = Vec::with_capacity(hs.len());
        let mut pending = false;
        for &h in hs {
            match self.settled(h) {
                None => pending = true,
                Some((true, v)) => values.push(v),
                Some((false, e)) => return Gathered::Err(e, h),
            }
        }
        if pending {
            Gathered::Pending
        } else {
            Gathered::Ok(values)
        }
    }

    /// `h` settled: wake its waiters as their waits say.
    fn notify(&mut self, m: &mut Machine, h: Handle) {
        let ws = std::mem::take(self.waiters(h));
        let (good, v) = self.settled(h).expect("h settled");
        for (w, gen) in ws {
            let t = &mut self.tasks[w as usize];
            if t.status != Status::Parked || t.gen != gen {
                continue;
            }
            match &mut t.waiting {
                // `gather-state` without the scan: a gatherer still parked has no
                // failed handle, so a failure of h is the first in input order;
                // a success leaves it pending until the last distinct handle.
                Some(Waiting::Gather(hs, remaining)) if good => {
                    *remaining -= 1;
                    if *remaining == 0 {
                        let hs = std::mem::take(hs);
                        let Gathered::Ok(vs) = self.gather_state(&hs) else { unreachable!("all settled ok") };
                        self.wake(w, Some(gen), ok(Value::list(vs)));
                    }
                }
                _ => self.deliver(m, w, gen, h, (good, v.clone())),
            }
        }
    }

    /// A task's error reaching a task that waits for it is a join.
    fn join_mark(m: &mut Machine, w: u32, h: Handle, good: bool) {
        if let (false, Handle::Task(child)) = (good, h) {
            m.native_mark("join", || ValueView::List(vec![ValueView::Int(w as i64), ValueView::Int(child as i64)]));
        }
    }

    /// Wake parked waiter `w` with an answer about `h`.
    fn deliver(&mut self, m: &mut Machine, w: u32, gen: u32, h: Handle, (good, v): (bool, Value)) {
        Self::join_mark(m, w, h, good);
        self.wake(w, Some(gen), Value::list(vec![Value::Bool(good), v]));
    }

    /// Answer the running task at once about `h`.
    fn reply(&mut self, m: &mut Machine, k: Rc<Continuation>, h: Handle, (good, v): (bool, Value)) -> Reply {
        Self::join_mark(m, self.cur, h, good);
        Reply::Transfer(k, Value::list(vec![Value::Bool(good), v]))
    }

    /// Task `tid` ended: record how, wake whoever waits for it.
    fn finish(&mut self, m: &mut Machine, tid: u32, good: bool, value: Value) {
        let t = &mut self.tasks[tid as usize];
        let status = match (good, t.cancel) {
            (true, false) => Status::Done,
            (true, true) => Status::Cancelled,
            (false, true) if error_tag(&value).as_deref() == Some("cancelled") => Status::Cancelled,
            (false, _) => Status::Failed,
        };
        t.status = status;
        t.value = if status == Status::Cancelled { cancelled_error(tid) } else { value };
        t.k = None;
        m.native_mark("task-end", || {
            ValueView::List(vec![ValueView::Int(tid as i64), ValueView::Str(status.name().to_string())])
        });
        self.notify(m, Handle::Task(tid));
    }

    /// Cancel task `t`, which is not the running one.
    fn cancel_other(&mut self, m: &mut Machine, t: u32) {
        let status = self.tasks[t as usize].status;
        if status.terminal() {
            return;
        }
        m.native_mark("cancel", || ValueView::Int(t as i64));
        self.tasks[t as usize].cancel = true;
        match status {
            // Never started: it never will.
            Status::New => {
                self.drop_ready(t);
                self.finish(m, t, true, Value::Unit);
            }
            // Queued to continue: continue it by raising instead.
            Status::Ready => {
                let k = self.drop_ready(t);
                self.enqueue(t, k, err(cancelled_error(t)));
            }
            _ => self.interrupt(t, cancelled_error(t)),
        }
    }

    // ---------------------------------------------------------- validation

    /// `(valid-handle? s x)`: a task or promise that exists.
    fn valid_handle(&self, x: &Value) -> Option<Handle> {
        if let Some(i) = handle_index(x, "task") {
            return (i < self.tasks.len() as i64).then_some(Handle::Task(i as u32));
        }
        let i = handle_index(x, "promise")?;
        (i < self.promises.len() as i64).then_some(Handle::Promise(i as u32))
    }

    fn valid_promise(&self, x: &Value) -> Option<u32> {
        match self.valid_handle(x)? {
            Handle::Promise(p) => Some(p),
            Handle::Task(_) => None,
        }
    }

    fn valid_semaphore(&self, x: &Value) -> Option<u32> {
        let i = handle_index(x, "semaphore")?;
        (i < self.sems.len() as i64).then_some(i as u32)
    }

    /// `(all-valid? s hs)`: a list of valid handles.
    fn all_valid(&self, x: &Value) -> Option<Vec<Handle>> {
        items(x)?.0.iter().map(|h| self.valid_handle(h)).collect()
    }
}
