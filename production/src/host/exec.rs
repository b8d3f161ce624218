//! The machine's side of the host seam: driving host frames, and what each
//! [`HostStep`] does. Every step reuses the machine's own operations —
//! dispatch, capture, reactivation, escapes, the one-shot and stale checks —
//! so host code gets kont's semantics with no second copy of them.
//!
//! Host frames run from the trampoline in `Machine::execute`: every place
//! that continues a host frame only queues it (`resume_host`), so chains of
//! host frames of any depth never nest on the native stack.

use kont_spec::ast::ResumeMode;
use kont_spec::{errors, ErrorTag, Event, Limits, NodeId, Outcome, Resource, Rule, RunOptions, SourceMap};

use super::{HostFrame, HostInput, HostStep, HostValue, HOST_SITE};
use crate::fiber::{Boundary, Escape, EscapeKind, Frame, NONE};
use crate::machine::{CallError, Exit, Flow, Machine};
use crate::value::Value;

impl Machine<'_, '_> {
    /// Call host value `h` with the arguments on top of the stack (the
    /// callee slot below them). The running function is the caller.
    pub fn call_host(&mut self, h: &dyn HostValue, argc: u32, node: NodeId) -> Flow {
        let at = self.stack.len() - argc as usize;
        let args = self.stack.split_off(at);
        let callee = self.stack.pop().expect("the callee");
        match h.call(args) {
            Some(frame) => {
                let caller = self.save();
                self.frames.push(caller);
                self.resume_host(frame, HostInput::Value(Value::Unit))
            }
            // [E-Call-NotFn]: the payload is the value that was called.
            None => {
                self.rule(Rule::ECallNotFn);
                let err = Value::error(ErrorTag::NotAFunction.name(), callee);
                self.fail_value(err, node)
            }
        }
    }

    /// Continue host frame `h` with `input`, from the trampoline. It sits on
    /// the running fiber, which has no running function.
    pub fn resume_host(&mut self, h: Box<dyn HostFrame>, input: HostInput) -> Flow {
        self.pending_host = Some((h, input));
        Flow::Break(Exit::RunHost)
    }

    /// Where host frame `h` is, as a site (asked only while tracing).
    fn site_of(&mut self, h: &dyn HostFrame) -> NodeId {
        if self.trace.is_none() {
            return HOST_SITE;
        }
        self.host_site(h.site())
    }

    /// One step of host frame `h` (one unit of fuel, SPEC.md §14.7).
    pub fn host_step(&mut self, mut h: Box<dyn HostFrame>, input: HostInput) -> Flow {
        self.charge(1)?;
        match h.resume(input) {
            HostStep::Return(v) => self.deliver(v),
            HostStep::Raise(err) => {
                let site = self.site_of(&*h);
                drop(h);
                self.emit(|m| Event::Raise { error: m.view(&err), site });
                self.raise_here(err, site)
            }
            HostStep::Unwind(err, at) => {
                drop(h);
                self.raise_here(err, at)
            }
            HostStep::Perform(effect) => {
                let site = self.site_of(&*h);
                self.frames.push(Frame::Host(h));
                let Some((label, payload)) = effect.effect_parts() else {
                    self.rule(Rule::DNotEffect);
                    let e = errors::form_type_error("perform", "an effect", effect.type_name());
                    return self.raise_data_here(e, site);
                };
                self.perform_suspended(label, payload, site)
            }
            HostStep::Call(f, args) => {
                self.frames.push(Frame::Host(h));
                let argc = args.len() as u32;
                match self.callee(f, argc, HOST_SITE) {
                    Ok((proto, env)) => {
                        let ret = self.stack.len() as u32;
                        self.stack.extend(args);
                        self.start_function(proto, env, argc, ret);
                        Flow::Continue(())
                    }
                    Err(CallError::Raise(err, at)) => {
                        self.emit(|m| Event::Raise { error: m.view(&err), site: at });
                        self.raise_here(err, at)
                    }
                    Err(CallError::Exit(exit)) => Flow::Break(exit),
                }
            }
            HostStep::Enter(callee) => {
                if self.at_depth_limit() {
                    self.rule(Rule::RDepth);
                    return Flow::Break(Exit::Exhausted(Resource::Depth));
                }
                self.frames.push(Frame::Host(h));
                self.resume_host(callee, HostInput::Value(Value::Unit))
            }
            HostStep::Install(boundary, body) => {
                self.frames.push(Frame::Host(h));
                let scope = self.new_scope();
                self.rule(Rule::BInstall);
                let (kind, name) = (boundary.kind(), boundary.name());
                self.emit(|_| Event::Install { scope, kind, name, copy_of: None });
                let f = self.alloc_fiber(self.cur(), Boundary::Host { scope, host: boundary })?;
                self.switch(f);
                self.resume_host(body, HostInput::Value(Value::Unit))
            }
            HostStep::Resume { k, value, throw } => {
                let site = self.site_of(&*h);
                self.frames.push(Frame::Host(h));
                let chain = match self.host_take_cont(&k, &value, throw, ResumeMode::Resume, site) {
                    Ok(taken) => taken,
                    Err(flow) => return flow,
                };
                let id = cont_id(&k);
                self.rule(if throw { Rule::KResumeThrow } else { Rule::KResume });
                self.emit(|m| Event::Resume { k: id, mode: ResumeMode::Resume, throw, value: m.view(&value) });
                self.reactivate(chain, value, throw.then_some(site))
            }
            HostStep::Transfer { k, value, throw } => {
                let site = self.site_of(&*h);
                self.frames.push(Frame::Host(h));
                let chain = match self.host_take_cont(&k, &value, throw, ResumeMode::Transfer, site) {
                    Ok(taken) => taken,
                    Err(flow) => return flow,
                };
                let esc = Escape { kind: EscapeKind::Transfer { k: cont_id(&k), chain, throw, value }, site };
                self.host_escape(esc)
            }
            HostStep::Pass { k, effect } => {
                let site = self.site_of(&*h);
                self.frames.push(Frame::Host(h));
                if let Err((rule, err)) = self.cont_check(&k) {
                    self.rule(rule);
                    return self.raise_value_here(err, site);
                }
                if let Some(e) = effect.as_ref().filter(|e| e.effect_parts().is_none()) {
                    self.rule(Rule::DNotEffect);
                    return self.raise_data_here(errors::form_type_error("pass", "an effect", e.type_name()), site);
                }
                let chain = take_chain(&k);
                self.host_escape(Escape { kind: EscapeKind::Pass { k: cont_id(&k), chain, effect }, site })
            }
            HostStep::NewCont { func, envelope } => {
                let site = self.site_of(&*h);
                self.frames.push(Frame::Host(h));
                if let Err((rule, err)) = self.new_cont_check(&func) {
                    self.rule(rule);
                    return self.raise_value_here(err, site);
                }
                let envelope = match envelope.map(|k| self.cont_check(&k)) {
                    None => None,
                    Some(Ok(c)) => Some(c),
                    Some(Err((rule, err))) => {
                        self.rule(rule);
                        return self.raise_value_here(err, site);
                    }
                };
                let k = self.make_cont(func, envelope.as_ref(), site)?;
                let Some(Frame::Host(h)) = self.frames.pop() else { unreachable!("pushed above") };
                self.resume_host(h, HostInput::Value(Value::Cont(k)))
            }
        }
    }

    /// The checks of a resume or transfer form from host code, then the
    /// continuation's chain (consumed). A failed check raises into the host
    /// frame on top, at its `yield`.
    fn host_take_cont(
        &mut self,
        k: &Value,
        value: &Value,
        throw: bool,
        mode: ResumeMode,
        site: NodeId,
    ) -> Result<crate::continuation::Chain, Flow> {
        if let Err((rule, err)) = self.cont_check(k) {
            self.rule(rule);
            return Err(self.raise_value_here(err, site));
        }
        if throw && !value.is_error() {
            self.rule(Rule::XNotError);
            let form = if mode == ResumeMode::Resume { "resume-throw" } else { "transfer-throw" };
            return Err(self.raise_data_here(errors::form_type_error(form, "an error value", value.type_name()), site));
        }
        Ok(take_chain(k))
    }

    /// A transfer or pass from the host frame on top: it is closed first (its
    /// cleanup runs, SPEC.md §14.4), then the escape goes to the activation.
    fn host_escape(&mut self, esc: Escape) -> Flow {
        let Some(Frame::Host(mut h)) = self.frames.pop() else { unreachable!("the host frame is on top") };
        match self.close_host_frame(&mut *h, esc) {
            Ok(esc) => self.escape_here(esc),
            Err((err, site)) => self.raise_here(err, site),
        }
    }

    /// Raise runtime error `err` (a `raise` event first) into the suspended top frame.
    fn raise_value_here(&mut self, err: Value, site: NodeId) -> Flow {
        self.emit(|m| Event::Raise { error: m.view(&err), site });
        self.raise_here(err, site)
    }

    fn raise_data_here(&mut self, err: kont_spec::ValueView, site: NodeId) -> Flow {
        self.raise_value_here(Value::from_data(&err), site)
    }
}

/// A checked continuation's id.
fn cont_id(k: &Value) -> u32 {
    let Value::Cont(c) = k else { unreachable!("checked") };
    c.id
}

/// Consume a checked, live continuation.
fn take_chain(k: &Value) -> crate::continuation::Chain {
    let Value::Cont(c) = k else { unreachable!("checked") };
    c.take().expect("checked live")
}

/// How a host run ended.
pub enum HostStop {
    Value(Value),
    Error(Value, NodeId),
    Exhausted(Resource),
}

/// A host run's result: its end, its trace, the map naming the trace's sites
/// (prelude nodes, and host sites from `HOST_SITE_BASE`), and the fuel it spent.
pub struct HostRun {
    pub stop: HostStop,
    /// The outcome's view (a value's only when tracing), for tracebacks.
    pub outcome: Outcome,
    pub trace: Vec<Event>,
    /// Names every site of the trace: the driver's prelude nodes and the host sites.
    pub map: SourceMap,
    pub steps: u64,
}

/// Run host code: `entry` is called, with the list of the prelude API
/// functions (`PRELUDE_API`), on the production VM
/// (the driver: the standard prelude around a call of it), under `limits`.
pub fn run_host(
    entry: Value,
    limits: Limits,
    options: RunOptions,
    external: Option<Box<dyn super::HostExternal>>,
) -> HostRun {
    let (code, map) = driver();
    let run = crate::next_run();
    let mut m = Machine::new(code, run, limits, options.trace, false);
    m.external = external;
    let stop = match m.alloc_fiber(NONE, Boundary::None) {
        Flow::Break(exit) => exit,
        Flow::Continue(root) => {
            m.enter(root);
            m.stack.push(entry);
            let env = m.make_env(0);
            m.start_function(code.main, env, 1, 0);
            m.execute()
        }
    };
    let (stop, outcome) = match stop {
        Exit::Finished(v) => {
            let value = if options.trace { m.view(&v) } else { kont_spec::ValueView::Unit };
            (HostStop::Value(v), Outcome::Value { value })
        }
        Exit::Failed(e, site) => {
            let error = m.view(&e);
            (HostStop::Error(e, site), Outcome::Error { error, site })
        }
        Exit::Exhausted(resource) => (HostStop::Exhausted(resource), Outcome::Exhausted { resource }),
        Exit::RunHost => unreachable!("the trampoline runs host code"),
    };
    let steps = m.steps();
    let trace = m.trace.take().unwrap_or_default();
    // Only a traced run needs its sites named.
    let map = if options.trace {
        SourceMap { hosts: std::mem::take(&mut m.host_sites), ..map.clone() }
    } else {
        SourceMap::default()
    };
    HostRun { stop, outcome, trace, map, steps }
}

/// The functions of the standard prelude a host gets, in this order
/// (SPEC.md §14.8): its entry is called with a list of them.
pub const PRELUDE_API: &[&str] = &[
    "run-scheduled",
    "spawn-at",
    "wait",
    "gather",
    "race",
    "cancel",
    "yield",
    "new-promise",
    "complete",
    "fail",
    "new-semaphore",
    "acquire",
    "release",
    "await",
    "now",
    "await-fail",
];

/// The compiled driver, shared by every host run on this thread: the
/// standard prelude wrapped around `(main (list run-scheduled spawn-at …))`,
/// so host code calls the prelude's own API and its handlers run natively,
/// exactly as for kont programs (SPEC.md §13.6).
fn driver() -> (&'static crate::Code<'static>, &'static SourceMap) {
    thread_local! {
        static DRIVER: (&'static crate::Code<'static>, &'static SourceMap) = {
            let text = format!("(main (list {}))", PRELUDE_API.join(" "));
            let (bare, map) = kont_spec::parse_program(&text).expect("the driver parses");
            let prelude = kont_spec::prelude::Prelude::load("std").expect("the standard prelude parses");
            let (mut program, map) = prelude.wrap(bare, &map);
            program.inputs = vec!["main".to_string()];
            let program: &'static kont_spec::Program = Box::leak(Box::new(program));
            (Box::leak(Box::new(crate::compile(program))), Box::leak(Box::new(map)))
        };
    }
    DRIVER.with(|d| *d)
}
