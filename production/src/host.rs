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
