//! Where values, errors and escapes go when the running function stops:
//! returning through frames and fibers (B-Return, C-Return), unwinding
//! (X-Catch, the finally rules, B-Unwind, C-Raise, I-Raise) and escaping to
//! the nearest clause activation (K-Transfer, K-Pass, K-Outside).

use kont_spec::errors;
use kont_spec::{Event, NodeId, Rule};

use crate::code::LabelId;
use crate::faults::{self, Fault};
use crate::fiber::{Completion, Dispatch, Escape, EscapeKind, Frame, TryPhase, NONE};
use crate::host::HostInput;
use crate::machine::{Exit, Flow, Machine};
use crate::value::Value;

/// What reached a frame from above when the running function stopped.
enum Unwinding {
    Error(Value, NodeId),
    Escape(Escape),
}

impl Machine<'_, '_> {
    /// The running function finished with `v` (its values are already gone):
    /// hand `v` to whatever waits below it.
    pub fn deliver(&mut self, v: Value) -> Flow {
        loop {
            match self.frames.pop() {
                Some(Frame::Code(s)) => {
                    self.restore(s);
                    self.stack.push(v);
                    return Flow::Continue(());
                }
                // [C-Return]
                Some(Frame::Activation { d, scope, .. }) => {
                    self.rule(Rule::CReturn);
                    self.emit(|m| Event::Return { dispatch: d, scope, value: m.view(&v) });
                }
                Some(Frame::Intercept { dispatch, scope, observe, node }) => {
                    return self.intercepted(*dispatch, scope, observe, node, v)
                }
                Some(Frame::Host(h)) => return self.resume_host(h, HostInput::Value(v)),
                Some(Frame::Try { .. } | Frame::Finally { .. } | Frame::Start { .. }) => {
                    unreachable!("only a running function's own code pops its try frames")
                }
                // The fiber is done: [B-Return] passes the value to its parent.
                None => {
                    if self.fibers.boundary(self.cur()).scope().is_some() {
                        self.rule(Rule::BReturn);
                    }
                    let parent = self.fibers.parent(self.cur());
                    if parent == NONE {
                        return Flow::Break(Exit::Finished(v));
                    }
                    self.leave_fiber(parent);
                }
            }
        }
    }

    /// The running fiber is empty: free it and continue in `parent`.
    pub fn leave_fiber(&mut self, parent: u32) {
        let done = self.cur();
        self.switch(parent);
        self.free_fiber(done);
    }

    /// Raise `err` (raised at `site`) in the running function.
    pub fn raise(&mut self, err: Value, site: NodeId) -> Flow {
        self.unwind(Unwinding::Error(err, site), true)
    }

    /// Start an escape from the running function.
    #[inline]
    pub fn escape(&mut self, esc: Escape) -> Flow {
        // The common case, a clause that transfers or passes directly: its
        // activation is right below it. Same effect as `unwind`, sooner.
        if let Some(Frame::Activation { .. }) = self.frames.last() {
            self.truncate_stack(self.ret as usize);
            self.rule(Rule::PEsc);
            let Some(Frame::Activation { d, scope, site, label, payload }) = self.frames.pop() else { unreachable!() };
            return self.activation_escape(d, scope, site, (label, payload), esc);
        }
        self.unwind(Unwinding::Escape(esc), true)
    }

    /// Pop frames until something takes `u`. `running` says whether the
    /// registers hold a function whose try frames are on top.
    fn unwind(&mut self, mut u: Unwinding, mut running: bool) -> Flow {
        loop {
            if running {
                if faults::active(Fault::InnerCatchSkipped) && matches!(u, Unwinding::Error(..)) {
                    while let Some(Frame::Try { .. } | Frame::Finally { .. }) = self.frames.last() {
                        self.frames.pop();
                    }
                }
                // The running function's own try frames come first.
                if let Some(Frame::Try { .. } | Frame::Finally { .. }) = self.frames.last() {
                    match self.try_unwind(u)? {
                        None => return Flow::Continue(()),
                        Some(rest) => {
                            u = rest;
                            continue;
                        }
                    }
                }
                // The function is left.
                self.truncate_stack(self.ret as usize);
                running = false;
                match &u {
                    Unwinding::Error(..) => self.rule(Rule::PErr),
                    Unwinding::Escape(_) => self.rule(Rule::PEsc),
                }
            }
            match self.frames.pop() {
                Some(Frame::Code(s)) => {
                    self.restore(s);
                    running = true;
                }
                Some(Frame::Activation { d, scope, site, label, payload }) => match u {
                    // [C-Raise]
                    Unwinding::Error(err, at) => {
                        self.rule(Rule::CRaise);
                        self.emit(|m| Event::Threw { dispatch: d, scope, error: m.view(&err) });
                        u = Unwinding::Error(err, at);
                    }
                    Unwinding::Escape(esc) => return self.activation_escape(d, scope, site, (label, payload), esc),
                },
                Some(Frame::Intercept { dispatch, scope, .. }) => {
                    let (err, at) = match u {
                        Unwinding::Error(err, at) => (err, at),
                        // [K-Outside]: an interceptor call is not a clause.
                        Unwinding::Escape(esc) => self.outside(esc),
                    };
                    // [I-Raise]: the dispatch is abandoned.
                    self.rule(Rule::IRaise);
                    self.emit(|m| Event::Threw { dispatch: dispatch.d, scope, error: m.view(&err) });
                    if let Some(c) = dispatch.chain {
                        self.free_chain(c);
                    }
                    u = Unwinding::Error(err, at);
                }
                Some(Frame::Host(mut h)) => match u {
                    Unwinding::Error(err, at) => return self.resume_host(h, HostInput::Throw(err, at)),
                    // Host code between a clause's escape and its activation is
                    // closed on the way, as `finally` code runs (SPEC.md §14.4).
                    Unwinding::Escape(esc) => {
                        u = match self.close_host_frame(&mut *h, esc) {
                            Ok(esc) => Unwinding::Escape(esc),
                            Err((err, site)) => Unwinding::Error(err, site),
                        }
                    }
                },
                Some(Frame::Try { .. } | Frame::Finally { .. }) => {
                    unreachable!("try frames belong to a running function")
                }
                // An unstarted continuation raised into before it started.
                Some(Frame::Start { .. }) => {}
                None => {
                    // [B-Unwind]
                    if let (Some(scope), Unwinding::Error(err, _)) = (self.fibers.boundary(self.cur()).scope(), &u) {
                        self.rule(Rule::BUnwind);
                        self.emit(|m| Event::Unwind { scope, error: m.view(err) });
                    }
                    let parent = self.fibers.parent(self.cur());
                    if parent == NONE {
                        return Flow::Break(match u {
                            Unwinding::Error(err, at) => Exit::Failed(err, at),
                            Unwinding::Escape(esc) => {
                                let (err, at) = self.outside(esc);
                                Exit::Failed(err, at)
                            }
                        });
                    }
                    self.leave_fiber(parent);
                }
            }
        }
    }

    /// [K-Outside]: the escape becomes an `outside-clause` error at its site.
    fn outside(&mut self, esc: Escape) -> (Value, NodeId) {
        self.rule(Rule::KOutside);
        let e = errors::outside_clause(esc.kind.form());
        self.emit(|_| Event::Raise { error: e.clone(), site: esc.site });
        (Value::from_data(&e), esc.site)
    }

    /// The top frame is a try frame of the running function. `Ok(None)`: the
    /// function continues (in a catch or finally); `Ok(Some(u))`: keep unwinding.
    fn try_unwind(&mut self, u: Unwinding) -> Flow<Option<Unwinding>> {
        match self.frames.pop() {
            Some(Frame::Try { def, sp, phase }) => {
                let t = &self.code.tries[def as usize];
                match (u, phase, t.catch_pc) {
                    // [X-Catch]
                    (Unwinding::Error(err, _), TryPhase::Body, Some(pc)) => {
                        self.rule(Rule::XCatch);
                        let node = t.node;
                        self.emit(|m| Event::Catch { error: m.view(&err), site: node });
                        self.stack.truncate(sp as usize);
                        if t.finally_pc.is_some() {
                            self.frames.push(Frame::Try { def, sp, phase: TryPhase::Catch });
                        }
                        self.stack.push(err);
                        self.pc = pc;
                        Flow::Continue(None)
                    }
                    (Unwinding::Error(err, at), _, _)
                        if t.finally_pc.is_some() && faults::active(Fault::FinallySkippedOnThrow) =>
                    {
                        Flow::Continue(Some(Unwinding::Error(err, at)))
                    }
                    (u, _, _) if t.finally_pc.is_some() => {
                        self.stack.truncate(sp as usize);
                        let c = match u {
                            Unwinding::Error(err, at) => Completion::Error(err, at),
                            Unwinding::Escape(esc) => Completion::Escape(Box::new(esc)),
                        };
                        self.start_finally(def, c);
                        Flow::Continue(None)
                    }
                    (u, _, _) => Flow::Continue(Some(u)),
                }
            }
            // The finally code itself raised or escaped: that replaces its completion.
            Some(Frame::Finally { .. }) => Flow::Continue(Some(u)),
            _ => unreachable!("called with a try frame on top"),
        }
    }

    /// Run the finally code of try `def`, then go on with `c`.
    pub fn start_finally(&mut self, def: u32, c: Completion) {
        let t = &self.code.tries[def as usize];
        self.rule(match c {
            Completion::Value(_) => Rule::XFinally,
            Completion::Error(..) => Rule::XFinallyRaise,
            Completion::Escape(_) => Rule::XFinallyEscape,
        });
        self.pc = t.finally_pc.expect("a finally");
        self.frames.push(Frame::Finally { def, completion: Box::new(c) });
    }

    /// The finally code finished normally: go on with what it interrupted.
    pub fn finish_finally(&mut self) -> Flow {
        let Some(Frame::Finally { def, completion }) = self.frames.pop() else { unreachable!("finally frame") };
        match *completion {
            Completion::Value(v) => {
                self.stack.push(v);
                self.pc = self.code.tries[def as usize].after_pc;
                Flow::Continue(())
            }
            Completion::Error(err, at) => self.raise(err, at),
            Completion::Escape(esc) => self.unwind(Unwinding::Escape(*esc), true),
        }
    }

    /// An escape reached the clause activation of dispatch `d` at `scope`.
    #[inline]
    fn activation_escape(&mut self, d: u32, scope: u32, site: NodeId, effect: (LabelId, Value), esc: Escape) -> Flow {
        match esc.kind {
            // [K-Transfer] [K-TransferThrow]: the activation's result is the continuation's.
            EscapeKind::Transfer { k, chain, throw, value } => {
                self.transfer(k, chain, value, throw.then_some(esc.site))
            }
            // [K-Pass]: dispatch `d` goes on outward from here with the same continuation.
            EscapeKind::Pass { k, chain, effect: replacement } => {
                self.rule(Rule::KPass);
                let (label, payload) = replacement.and_then(|e| e.effect_parts()).unwrap_or(effect);
                if faults::active(Fault::PassNotifiesTwice) {
                    self.observers_again(d, chain);
                }
                self.emit(|m| Event::Pass { dispatch: d, scope, k, effect: m.effect_view(label, &payload) });
                self.dispatch(Dispatch { d, label, payload, site, chain: Some(chain) })
            }
        }
    }

    /// Raise `err` at `site` where no function is running (the top frame is a
    /// suspended one, or the fiber is empty).
    pub fn raise_here(&mut self, err: Value, site: NodeId) -> Flow {
        self.unwind(Unwinding::Error(err, site), false)
    }

    /// Start an escape where no function is running (host code escaped).
    pub fn escape_here(&mut self, esc: Escape) -> Flow {
        self.unwind(Unwinding::Escape(esc), false)
    }

    /// Host frame `h` is left by escape `esc` (SPEC.md §14.4): it is closed,
    /// as `finally` code runs. If closing raised, that error (raised at the
    /// escape's site) replaces the escape, whose continuation is abandoned.
    pub fn close_host_frame(
        &mut self,
        h: &mut dyn crate::host::HostFrame,
        esc: Escape,
    ) -> Result<Escape, (Value, NodeId)> {
        let Some(err) = h.close() else { return Ok(esc) };
        match esc.kind {
            EscapeKind::Transfer { chain, .. } | EscapeKind::Pass { chain, .. } => self.free_chain(chain),
        }
        self.emit(|m| Event::Raise { error: m.view(&err), site: esc.site });
        Err((err, esc.site))
    }
}
