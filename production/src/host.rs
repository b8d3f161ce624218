//! The host seam: where a foreign runtime (Python generators, later) plugs in
//! its own code and values without touching dispatch or continuations.
//!
//! A host frame is a resumable computation the machine drives like a
//! generator: it receives a value or an error and answers with what it wants
//! next. It lives on a fiber like any frame, so effects it performs capture it
//! into continuations and it moves with them.

use kont_spec::ValueView;

use crate::value::Value;

/// An opaque value owned by the host.
pub trait HostValue {
    fn type_name(&self) -> &'static str {
        "host"
    }
    /// How the value appears in outcomes and traces.
    fn view(&self) -> ValueView;
    /// Calling it starts host code, when it is callable.
    fn call(&self, _args: Vec<Value>) -> Option<Box<dyn HostFrame>> {
        None
    }
}

/// What a host frame receives.
pub enum HostInput {
    /// The value of what it asked for last (or its start argument).
    Value(Value),
    /// An error raised into it.
    Throw(Value),
}

/// What a host frame asks for.
pub enum HostStep {
    /// It finished with a value.
    Return(Value),
    /// It raised an error.
    Raise(Value),
    /// Perform this effect value; the answer comes back as the next input.
    Perform(Value),
    /// Call this function with these arguments; the result comes back.
    Call(Value, Vec<Value>),
}

/// Host code, driven by the machine.
pub trait HostFrame {
    fn resume(&mut self, input: HostInput) -> HostStep;
}

/// Host sites have no node in the program.
pub const HOST_SITE: kont_spec::NodeId = kont_spec::NodeId::MAX;

use kont_spec::{Event, Rule};

use crate::fiber::{Dispatch, Frame};
use crate::machine::{CallError, Flow, Machine};

impl Machine<'_, '_> {
    /// Call host value `h` with the arguments on top of the stack (the
    /// callee slot below them). The running function is the caller.
    pub fn call_host(&mut self, h: &dyn HostValue, argc: u32, node: kont_spec::NodeId) -> Flow {
        let at = self.stack.len() - argc as usize;
        let args = self.stack.split_off(at);
        self.stack.pop();
        match h.call(args) {
            Some(frame) => {
                let caller = self.save();
                self.frames.push(caller);
                self.host_resume(frame, HostInput::Value(Value::Unit))
            }
            None => {
                self.rule(Rule::ECallNotFn);
                let err = Value::error(kont_spec::ErrorTag::NotAFunction.name(), Value::Unit);
                self.fail_value(err, node)
            }
        }
    }

    /// Drive host frame `h` with `input`; it sits on the running fiber, which
    /// has no running function.
    pub fn host_resume(&mut self, mut h: Box<dyn HostFrame>, input: HostInput) -> Flow {
        match h.resume(input) {
            HostStep::Return(v) => self.deliver(v),
            HostStep::Raise(err) => {
                self.emit(|m| Event::Raise { error: m.view(&err), site: HOST_SITE });
                self.raise_here(err, HOST_SITE)
            }
            HostStep::Perform(effect) => {
                self.frames.push(Frame::Host(h));
                let Value::Effect(e) = &effect else {
                    let e = kont_spec::errors::form_type_error("perform", "an effect", effect.type_name());
                    self.emit(|_| Event::Raise { error: e.clone(), site: HOST_SITE });
                    return self.raise_here(Value::from_data(&e), HOST_SITE);
                };
                self.rule(Rule::DPerform);
                let d = self.new_dispatch();
                let (label, payload) = (e.label, e.payload.clone());
                self.emit(|m| Event::Perform { dispatch: d, effect: m.effect_view(label, &payload), site: HOST_SITE });
                self.dispatch(Dispatch { d, label, payload, site: HOST_SITE, chain: None })
            }
            HostStep::Call(f, args) => {
                self.frames.push(Frame::Host(h));
                let argc = args.len() as u32;
                match self.callee(f, argc, HOST_SITE) {
                    Ok((proto, env)) => {
                        let ret = self.stack.len() as u32;
                        self.stack.extend(args);
                        self.start_function(proto, env, argc, ret);
                        Ok(())
                    }
                    Err(CallError::Raise(err, at)) => {
                        self.emit(|m| Event::Raise { error: m.view(&err), site: at });
                        self.raise_here(err, at)
                    }
                    Err(CallError::Stop(stop)) => Err(stop),
                }
            }
        }
    }
}
