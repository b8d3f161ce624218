//! The native `run-await` handler (SPEC.md §13.3): without a scheduler an
//! external operation completes at once and the virtual clock advances.

use std::rc::Rc;

use super::{await_op, clock_fits, ok, refuse, Reply};
use crate::continuation::Continuation;
use crate::value::Value;

#[derive(Default)]
pub struct Clock {
    now: i64,
}

impl Clock {
    pub fn clause(&mut self, label: &str, x: Value, k: Rc<Continuation>) -> Reply {
        match label {
            "Await" => match await_op(&x) {
                None => refuse(k, "bad-payload", x),
                Some((ticks, _)) if !clock_fits(self.now, ticks) => refuse(k, "clock-overflow", x),
                Some((ticks, answer)) => {
                    if !crate::faults::active(crate::faults::Fault::AwaitClockStill) {
                        self.now += ticks;
                    }
                    Reply::Transfer(k, answer)
                }
            },
            "Now" => Reply::Transfer(k, ok(Value::Int(self.now))),
            other => unreachable!("the standard await handler has no clause for {other}"),
        }
    }
}
