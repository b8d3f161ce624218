//! The stepping machine: registers for the running function, the fiber
//! arena, the store, and the instruction loop. Program depth never becomes
//! native stack depth: calls push frames on the current fiber, boundaries
//! create fibers, and every control transfer is a loop iteration.

use std::rc::Rc;

use kont_spec::errors::form_type_error;
use kont_spec::{ErrorTag, Event, Limits, NodeId, Resource, Rule, RuleCounts, ValueView};

use kont_spec::ast::Prim;

use crate::code::{Arg, Code, Instr, Op, ProtoId};
use crate::fiber::{Boundary, Fibers, Frame, Saved, TryPhase};
use crate::value::{CellRef, Env, Value};

/// Why the machine leaves its instruction loop.
pub enum Exit {
    /// The run finished with a value.
    Finished(Value),
    /// The run failed: an uncaught error, raised at a node.
    Failed(Value, NodeId),
    /// The run ran out of a resource.
    Exhausted(Resource),
    /// Not an end: host code is queued (`Machine::pending_host`); the
    /// trampoline in `execute` runs it, then the loop goes on, so host frames
    /// never nest on the native stack however deep their chains are.
    RunHost,
}

/// What every step of the machine says: `Continue` with the next
/// instruction (and a result, for helpers), or `Break` out of the loop with
/// why. `?` propagates a break.
pub type Flow<T = ()> = std::ops::ControlFlow<Exit, T>;

/// Why a function could not be started.
pub enum CallError {
    /// An error value to raise at a node.
    Raise(Value, NodeId),
    /// A limit ended the run.
    Exit(Exit),
}

pub struct Machine<'c, 'p> {
    pub code: &'c Code<'p>,
    pub run: u64,
    /// The fiber arena; the running fiber's frames and values are in `frames` and `stack`.
    pub fibers: Fibers,
    pub frames: Vec<Frame>,
    pub stack: Vec<Value>,
    // The running function.
    pub instrs: &'c [Instr],
    pub proto: ProtoId,
    pub pc: u32,
    pub base: u32,
    pub ret: u32,
    pub env: Rc<Env>,
    // Resources.
    fuel: u64,
    limit: u64,
    max_depth: u32,
    /// Memory left and the budget (R-Memory, memory.rs).
    pub memory: u64,
    pub memory_limit: u64,
    // Observables and counters.
    pub output: Vec<ValueView>,
    pub trace: Option<Vec<Event>>,
    pub counts: Option<RuleCounts>,
    pub cells: Vec<Value>,
    scopes: u32,
    /// For the `ScopeIdReused` fault only.
    freed_scope: Option<u32>,
    dispatches: u32,
    conts: u32,
    /// Used continuation objects no one else holds, for the next captures
    /// (one allocation less per perform + resume; see `Machine::recycle`).
    pub spare_conts: Vec<Rc<crate::continuation::Continuation>>,
    /// Neither traced, nor counted, nor under an injected fault, and some
    /// clause has the shape of the shortcut whose steps nobody then sees
    /// (`tail_transfer.rs`): dispatch may take it.
    pub unobserved: bool,
    /// Performs the tail-transfer shortcut answered.
    pub tail_transfers: u64,
    /// A native handler was installed (SPEC.md §13.6: fuel is then not the spec's count).
    pub natives_used: bool,
    /// The host's settler of promises from outside (SPEC.md §14.9), asked when
    /// every task of a native scheduler is parked.
    pub external: Option<Box<dyn crate::host::HostExternal>>,
    /// Host code to run next, and what it receives (see `Exit::RunHost`).
    pub pending_host: Option<(Box<dyn crate::host::HostFrame>, crate::host::HostInput)>,
    /// Host sites seen while tracing (`file:line`), by `HOST_SITE_BASE + index`.
    pub host_sites: Vec<String>,
    host_site_ids: std::collections::HashMap<String, u32>,
}

impl<'c, 'p> Machine<'c, 'p> {
    pub fn new(code: &'c Code<'p>, run: u64, limits: Limits, trace: bool, count: bool) -> Self {
        let empty = Rc::new(Env { group: 0, captures: Box::new([]) });
        Machine {
            code,
            run,
            fibers: Fibers::default(),
            frames: Vec::new(),
            stack: Vec::new(),
            instrs: &[],
            proto: 0,
            pc: 0,
            base: 0,
            ret: 0,
            env: empty,
            fuel: limits.fuel,
            limit: limits.fuel,
            max_depth: limits.depth,
            memory: limits.memory,
            memory_limit: limits.memory,
            output: Vec::new(),
            trace: trace.then(Vec::new),
            counts: count.then(RuleCounts::default),
            cells: Vec::new(),
            scopes: 0,
            freed_scope: None,
            dispatches: 0,
            conts: 0,
            spare_conts: Vec::new(),
            unobserved: !trace && !count && crate::faults::shortcuts_allowed() && code.has_tail_transfer(),
            tail_transfers: 0,
            natives_used: false,
            external: None,
            pending_host: None,
            host_sites: Vec::new(),
            host_site_ids: std::collections::HashMap::new(),
        }
    }

    /// The node id naming host site `site` (interned; only while tracing).
    pub fn host_site(&mut self, site: Option<String>) -> NodeId {
        let Some(site) = site.filter(|_| self.trace.is_some()) else { return crate::host::HOST_SITE };
        if let Some(&i) = self.host_site_ids.get(&site) {
            return kont_spec::HOST_SITE_BASE + i;
        }
        let i = self.host_sites.len() as u32;
        self.host_sites.push(site.clone());
        self.host_site_ids.insert(site, i);
        kont_spec::HOST_SITE_BASE + i
    }

    /// Every task is parked: the host's settlements, `None` without a host
    /// settler or with nothing pending outside.
    pub fn wait_external(&mut self) -> Option<Vec<(u32, bool, Value)>> {
        let settled = self.external.as_mut()?.wait();
        (!settled.is_empty()).then_some(settled)
    }

    /// Spend `n` fuel, or end the run (R-Fuel).
    pub fn charge(&mut self, n: u64) -> Flow {
        if self.fuel < n {
            self.fuel = 0;
            self.rule(Rule::RFuel);
            return Flow::Break(Exit::Exhausted(Resource::Fuel));
        }
        self.fuel -= n;
        Flow::Continue(())
    }

    /// Fuel left.
    #[inline]
    pub fn fuel_left(&self) -> u64 {
        self.fuel
    }

    /// Spend `n` fuel, which must be left.
    #[inline]
    pub fn spend_fuel(&mut self, n: u64) {
        self.fuel -= n;
    }

    /// Whether one more frame or fiber would pass the depth limit (R-Depth).
    pub fn at_depth_limit(&self) -> bool {
        self.fibers.live() as usize + self.frames.len() >= self.max_depth as usize
    }

    /// Fuel spent so far.
    pub fn steps(&self) -> u64 {
        self.limit - self.fuel
    }

    #[inline]
    pub fn rule(&mut self, r: Rule) {
        if let Some(c) = &mut self.counts {
            c.hit(r);
        }
    }

    #[inline]
    pub fn emit(&mut self, e: impl FnOnce(&Self) -> Event) {
        if self.trace.is_some() {
            // The event may read the machine (views), so it is built before the push.
            let ev = e(self);
            if let Some(t) = &mut self.trace {
                t.push(ev);
            }
        }
    }

    pub fn view(&self, v: &Value) -> ValueView {
        v.view(self.code, self.run)
    }

    pub fn new_scope(&mut self) -> u32 {
        if crate::faults::active(crate::faults::Fault::ScopeIdReused) {
            if let Some(s) = self.freed_scope.take() {
                return s;
            }
        }
        self.scopes += 1;
        self.scopes
    }

    pub fn new_dispatch(&mut self) -> u32 {
        self.dispatches += 1;
        self.dispatches
    }

    pub fn new_cont_id(&mut self) -> u32 {
        self.conts += 1;
        self.conts
    }

    // ----- fibers ---------------------------------------------------------

    pub fn alloc_fiber(&mut self, parent: u32, boundary: Boundary) -> Flow<u32> {
        if !self.fibers.graveyard().is_empty() {
            self.bury();
        }
        if self.at_depth_limit() {
            self.rule(Rule::RDepth);
            return Flow::Break(Exit::Exhausted(Resource::Depth));
        }
        Flow::Continue(self.fibers.alloc(parent, boundary))
    }

    /// Release a fiber that is not the running one.
    pub fn free_fiber(&mut self, id: u32) {
        let old = self.fibers.free(id);
        if crate::faults::active(crate::faults::Fault::ScopeIdReused) {
            self.freed_scope = old.scope();
        }
    }

    /// Free the fibers of every abandoned continuation.
    fn bury(&mut self) {
        loop {
            let chains = self.fibers.graveyard().take();
            if chains.is_empty() {
                return;
            }
            for c in chains {
                self.free_chain(c);
            }
        }
    }

    /// Free every fiber of a detached chain.
    pub fn free_chain(&mut self, c: crate::continuation::Chain) {
        let mut f = c.head;
        let mut steps = 0usize;
        loop {
            steps += 1;
            assert!(steps <= self.fibers.len(), "fiber chain cycle");
            let next = self.fibers.parent(f);
            self.free_fiber(f);
            if f == c.last {
                break;
            }
            f = next;
        }
    }

    /// Put the running fiber's frames and values back in the arena.
    #[inline]
    pub fn commit(&mut self) {
        self.fibers.commit(&mut self.frames, &mut self.stack);
    }

    /// Make `id` the running fiber (the previous one must be committed).
    #[inline]
    pub fn enter(&mut self, id: u32) {
        self.fibers.enter(id, &mut self.frames, &mut self.stack);
    }

    /// The running fiber.
    #[inline]
    pub fn cur(&self) -> u32 {
        self.fibers.running()
    }

    #[inline]
    pub fn switch(&mut self, id: u32) {
        self.commit();
        self.enter(id);
    }

    // ----- functions ------------------------------------------------------

    #[inline]
    pub fn save(&self) -> Frame {
        Frame::Code(Saved { proto: self.proto, pc: self.pc, base: self.base, ret: self.ret, env: self.env.clone() })
    }

    #[inline]
    pub fn restore(&mut self, s: Saved) {
        self.proto = s.proto;
        self.instrs = &self.code.protos[s.proto as usize].code;
        self.pc = s.pc;
        self.base = s.base;
        self.ret = s.ret;
        self.env = s.env;
    }

    /// Check that `f` can be called with `argc` arguments: E-Call-NotFn,
    /// E-Call-Arity (the error to raise at `node`), R-Depth (the run ends).
    pub fn callee(&mut self, f: Value, argc: u32, node: NodeId) -> Result<(ProtoId, Rc<Env>), CallError> {
        let (member, env) = match f {
            Value::Fn(i, env) => (i, env),
            other => {
                self.rule(Rule::ECallNotFn);
                return Err(CallError::Raise(Value::error(ErrorTag::NotAFunction.name(), other), node));
            }
        };
        let proto = self.code.groups[env.group as usize].protos[member as usize];
        let nparams = self.code.protos[proto as usize].nparams;
        if nparams != argc {
            self.rule(Rule::ECallArity);
            let e = kont_spec::errors::arity(nparams as usize, argc as usize);
            return Err(CallError::Raise(Value::from_data(&e), node));
        }
        if self.fibers.live() as usize + self.frames.len() >= self.max_depth as usize {
            self.rule(Rule::RDepth);
            return Err(CallError::Exit(Exit::Exhausted(Resource::Depth)));
        }
        self.rule(Rule::ECall);
        Ok((proto, env))
    }

    /// A failed call from the running function: raise its error there.
    fn call_error(&mut self, e: CallError) -> Flow {
        match e {
            CallError::Raise(err, node) => self.fail_value(err, node),
            CallError::Exit(exit) => Flow::Break(exit),
        }
    }

    /// Make `proto` the running function, its `argc` arguments on top of the
    /// stack; the caller (if any) is already saved. Its values start at `ret`.
    pub fn start_function(&mut self, proto: ProtoId, env: Rc<Env>, argc: u32, ret: u32) {
        self.env = env;
        self.enter_function(proto, argc, ret);
    }

    /// `start_function` in the running environment (a call within a `letrec` group).
    #[inline]
    fn enter_function(&mut self, proto: ProtoId, argc: u32, ret: u32) {
        let p = &self.code.protos[proto as usize];
        self.base = self.stack.len() as u32 - argc;
        self.ret = ret;
        self.proto = proto;
        self.instrs = &p.code;
        self.pc = 0;
        for _ in p.nparams..p.nlocals {
            self.stack.push(Value::Unit);
        }
    }

    // ----- errors -----------------------------------------------------------

    /// Raise a runtime error with a message payload at `node`.
    pub fn fail(&mut self, err: ValueView, node: NodeId) -> Flow {
        self.fail_value(Value::from_data(&err), node)
    }

    /// Raise a runtime error value at `node` (a `raise` event, then unwinding).
    pub fn fail_value(&mut self, err: Value, node: NodeId) -> Flow {
        self.emit(|m| Event::Raise { error: m.view(&err), site: node });
        self.raise(err, node)
    }

    pub fn type_error(&mut self, form: &str, expected: &str, got: &Value, node: NodeId) -> Flow {
        let e = form_type_error(form, expected, got.type_name());
        self.fail(e, node)
    }

    // ----- the loop -----------------------------------------------------------

    /// Run the program's body with its inputs, in a fresh root fiber.
    pub fn run_main(&mut self, inputs: Vec<Value>) -> Exit {
        match self.alloc_fiber(crate::fiber::NONE, Boundary::None) {
            Flow::Break(exit) => exit,
            Flow::Continue(root) => {
                self.enter(root);
                let argc = inputs.len() as u32;
                self.stack.extend(inputs);
                let env = self.make_env(0);
                self.start_function(self.code.main, env, argc, 0);
                self.execute()
            }
        }
    }

    /// Run until the program ends.
    pub fn execute(&mut self) -> Exit {
        loop {
            let flow = match self.pending_host.take() {
                Some((h, input)) => self.host_step(h, input),
                None => self.steps_until_stop(),
            };
            match flow {
                Flow::Continue(()) | Flow::Break(Exit::RunHost) => {}
                Flow::Break(exit) => return exit,
            }
        }
    }

    #[inline(always)]
    fn pop(&mut self) -> Value {
        self.stack.pop().expect("operand")
    }

    fn steps_until_stop(&mut self) -> Flow {
        loop {
            // The code outlives the machine's borrow: no copy of the instruction.
            let instrs: &'c [Instr] = self.instrs;
            let ins = &instrs[self.pc as usize];
            self.pc += 1;
            if ins.fuel != 0 {
                if self.fuel < ins.fuel as u64 {
                    self.fuel = 0;
                    self.rule(Rule::RFuel);
                    return Flow::Break(Exit::Exhausted(Resource::Fuel));
                }
                self.fuel -= ins.fuel as u64;
            }
            match ins.op {
                Op::Const(i) => {
                    self.rule(Rule::ELit);
                    let v = self.code.consts[i as usize].clone();
                    self.stack.push(v);
                }
                Op::Unit => {
                    self.rule(Rule::ELit);
                    self.stack.push(Value::Unit)
                }
                Op::Bool(b) => {
                    self.rule(Rule::ELit);
                    self.stack.push(Value::Bool(b))
                }
                Op::Int(i) => {
                    self.rule(Rule::ELit);
                    self.stack.push(Value::Int(i as i64))
                }
                Op::Local(s) => {
                    self.rule(Rule::EVar);
                    let v = self.stack[(self.base + s) as usize].clone();
                    self.stack.push(v);
                }
                Op::Capture(i) => {
                    self.rule(Rule::EVar);
                    let v = self.env.captures[i as usize].clone();
                    self.stack.push(v);
                }
                Op::Rec(i) => self.stack.push(Value::Fn(i, self.env.clone())),
                Op::SetLocal(s) => {
                    self.rule(Rule::ELet);
                    let v = self.pop();
                    self.stack[(self.base + s) as usize] = v;
                }
                Op::Pop => {
                    self.rule(Rule::EDo);
                    self.pop();
                }
                Op::Jump(t) => self.pc = t,
                Op::JumpIfNot { target, node } => match self.pop() {
                    Value::Bool(b) => {
                        self.rule(Rule::EIf);
                        if !b {
                            self.pc = target;
                        }
                    }
                    other => {
                        self.rule(Rule::EIfType);
                        return self.type_error("if", "bool", &other, node);
                    }
                },
                Op::MakeFn { group } => {
                    self.rule(Rule::EFn);
                    let env = self.make_env(group);
                    self.stack.push(Value::Fn(0, env));
                }
                Op::MakeRec { group, slot } => {
                    self.rule(Rule::ELetrec);
                    let env = self.make_env(group);
                    let n = self.code.groups[group as usize].protos.len() as u32;
                    for i in 0..n {
                        self.stack[(self.base + slot + i) as usize] = Value::Fn(i, env.clone());
                    }
                }
                Op::Call { argc, node } => {
                    if let Some((at, proto, env)) = self.call_target(argc, node)? {
                        let caller = self.save();
                        self.frames.push(caller);
                        self.start_function(proto, env, argc, at as u32);
                    }
                }
                Op::TailCall { argc, node } => {
                    if let Some((at, proto, env)) = self.call_target(argc, node)? {
                        // The callee replaces this activation: its arguments move down to our base.
                        self.replace_frame(at + 1, argc);
                        let ret = self.ret;
                        self.start_function(proto, env, argc, ret);
                    }
                }
                Op::Return => {
                    let v = self.pop();
                    self.truncate_stack(self.ret as usize);
                    self.deliver(v)?;
                }
                Op::Prim { op, argc, node } => self.prim(op, argc, node)?,
                Op::Arith { op, a, b, node } => {
                    let fast = match (self.int_arg(a, b, true), self.int_arg(b, a, false)) {
                        (Some(x), Some(y)) => match crate::tail_transfer::int_arith(op, x, y) {
                            Some(r) => {
                                self.drop_args(a, b);
                                self.rule(Rule::EPrim);
                                // Results are written straight into the stack slot (no temporary).
                                match r {
                                    Ok(i) => self.stack.push(Value::Int(i)),
                                    Err(c) => self.stack.push(Value::Bool(c)),
                                }
                                true
                            }
                            None => false,
                        },
                        _ => false,
                    };
                    if !fast {
                        // Overflow, or not two ints: the general path.
                        self.materialize(a, b);
                        self.prim(op, 2, node)?;
                    }
                }
                Op::Branch { op, a, b, target, node } => {
                    let cond = match (self.int_arg(a, b, true), self.int_arg(b, a, false)) {
                        (Some(x), Some(y)) => {
                            self.drop_args(a, b);
                            self.rule(Rule::EPrim);
                            compare(op, x, y)
                        }
                        _ => {
                            let vb = self.take_arg(b);
                            let va = self.take_arg(a);
                            match crate::prim::compare(op, &va, &vb, self.run) {
                                Ok(c) => {
                                    self.rule(Rule::EPrim);
                                    c
                                }
                                // A raise ends this instruction, caught or not.
                                Err(e) => {
                                    self.rule(Rule::EPrimType);
                                    self.fail(e, node)?;
                                    continue;
                                }
                            }
                        }
                    };
                    self.rule(Rule::EIf);
                    if !cond {
                        self.pc = target;
                    }
                }
                Op::CallRec { member, argc, tail, node: _ } => {
                    let proto = self.code.groups[self.env.group as usize].protos[member as usize];
                    if self.fibers.live() as usize + self.frames.len() >= self.max_depth as usize {
                        self.rule(Rule::RDepth);
                        return Flow::Break(Exit::Exhausted(Resource::Depth));
                    }
                    self.rule(Rule::ECall);
                    let at = self.stack.len() - argc as usize;
                    if tail {
                        // A member of the running group: the environment stays.
                        self.replace_frame(at, argc);
                        self.enter_function(proto, argc, self.ret);
                    } else {
                        let caller = self.save();
                        self.frames.push(caller);
                        let env = self.env.clone();
                        self.start_function(proto, env, argc, at as u32);
                    }
                }
                Op::Emit => {
                    let v = self.pop();
                    // R-Memory: the output log keeps a copy of v.
                    self.spend_size(&v)?;
                    self.rule(Rule::EEmit);
                    let view = self.view(&v);
                    self.output.push(view);
                    self.stack.push(Value::Unit);
                }
                Op::Mark { tag } => {
                    let v = self.pop();
                    self.rule(Rule::EMark);
                    self.emit(|m| {
                        let Value::Str(t) = &m.code.consts[tag as usize] else { unreachable!("mark tags are strings") };
                        Event::Mark { tag: t.to_string(), value: m.view(&v) }
                    });
                    self.stack.push(Value::Unit);
                }
                Op::MakeEffect { label } => {
                    let v = self.pop();
                    self.rule(Rule::EEffect);
                    self.stack.push(Value::effect(label, v));
                }
                Op::Perform { label, arg, node } => {
                    // The tail-transfer shortcut reads a local or captured payload in place.
                    if self.unobserved && matches!(arg, Arg::Local(_) | Arg::Capture(_)) {
                        let payload = match arg {
                            Arg::Local(s) => &self.stack[(self.base + s) as usize],
                            Arg::Capture(c) => &self.env.captures[c as usize],
                            _ => unreachable!("checked above"),
                        };
                        if let Some((v, fuel)) = self.tail_transfer(label, payload) {
                            self.took_tail_transfer(fuel);
                            self.stack.push(v);
                            continue;
                        }
                    }
                    let v = self.take_arg(arg);
                    self.perform(label, v, node)?;
                }
                Op::PerformValue { node } => match self.pop() {
                    v if v.effect_parts().is_some() => {
                        let (label, payload) = v.effect_parts().expect("an effect");
                        self.perform(label, payload, node)?
                    }
                    other => {
                        self.rule(Rule::DNotEffect);
                        return self.type_error("perform", "an effect", &other, node);
                    }
                },
                Op::WithHandler { def } => self.with_handler(def)?,
                Op::WithIntercept { def } => {
                    let f = self.pop();
                    self.with_intercept(def, f)?;
                }
                Op::Resume { mode, throw, take, k, v, node } => {
                    let v = self.take_arg(v);
                    let k = match k {
                        // Its last read: the slot is dead from here on.
                        Arg::Local(s) if take => {
                            std::mem::replace(&mut self.stack[(self.base + s) as usize], Value::Unit)
                        }
                        k => self.take_arg(k),
                    };
                    self.resume_form(mode, throw, k, v, node)?;
                }
                Op::Pass { effect, node } => {
                    let eff = if effect { Some(self.pop()) } else { None };
                    let k = self.pop();
                    self.pass_form(k, eff, node)?;
                }
                Op::Raise { node } => match self.pop() {
                    // A host error (a Python exception) is an error value too (SPEC.md §14.2).
                    v if v.is_error() => {
                        self.rule(Rule::XRaise);
                        self.emit(|m| Event::Raise { error: m.view(&v), site: node });
                        self.raise(v, node)?;
                    }
                    other => {
                        self.rule(Rule::XNotError);
                        return self.type_error("raise", "an error value", &other, node);
                    }
                },
                Op::NewCont { envelope, node } => {
                    let k = if envelope { Some(self.pop()) } else { None };
                    let f = self.pop();
                    self.new_cont(f, k, node)?;
                }
                Op::TryEnter { def } => {
                    let sp = self.stack.len() as u32;
                    self.frames.push(Frame::Try { def, sp, phase: TryPhase::Body });
                }
                Op::TryEnd => {
                    let Some(Frame::Try { def, .. }) = self.frames.pop() else { unreachable!("try frame") };
                    if self.code.tries[def as usize].finally_pc.is_some() {
                        let v = self.pop();
                        self.start_finally(def, crate::fiber::Completion::Value(v));
                    }
                }
                Op::CatchEnd { def } => {
                    // Only this try's own frame: an enclosing try may also be in its catch phase.
                    if let Some(Frame::Try { def: top, phase: TryPhase::Catch, .. }) = self.frames.last() {
                        if *top != def {
                            continue;
                        }
                        self.frames.pop();
                        let v = self.pop();
                        self.start_finally(def, crate::fiber::Completion::Value(v));
                    }
                }
                Op::FinallyEnd => self.finish_finally()?,
            }
        }
    }

    /// The function to start for a call whose function and `argc` arguments
    /// are on top of the stack, and where they start; `None` when host code
    /// ran it (in its own frame, so a tail call stays a plain call) or the
    /// call failed and its error is already raised.
    #[inline(always)]
    fn call_target(&mut self, argc: u32, node: NodeId) -> Flow<Option<(usize, ProtoId, Rc<Env>)>> {
        let at = self.stack.len() - argc as usize - 1;
        if let Value::Host(h) = &self.stack[at] {
            let h = h.clone();
            self.call_host(&**h, argc, node)?;
            return Flow::Continue(None);
        }
        let f = std::mem::replace(&mut self.stack[at], Value::Unit);
        match self.callee(f, argc, node) {
            Ok((proto, env)) => Flow::Continue(Some((at, proto, env))),
            Err(e) => {
                self.call_error(e)?;
                Flow::Continue(None)
            }
        }
    }

    /// Read an operand, popping it when it is on the stack. Operands are taken
    /// last first (the second operand of a pair is on top).
    #[inline]
    fn take_arg(&mut self, a: Arg) -> Value {
        match a {
            Arg::Stack => self.pop(),
            Arg::Local(s) => self.stack[(self.base + s) as usize].clone(),
            Arg::Capture(c) => self.env.captures[c as usize].clone(),
            Arg::Int(i) => Value::Int(i as i64),
        }
    }

    /// The int value of operand `a` of the pair (`a`, `other`) without
    /// consuming it; `first` says whether `a` is the first operand.
    #[inline]
    fn int_arg(&self, a: Arg, other: Arg, first: bool) -> Option<i64> {
        let v = match a {
            Arg::Int(i) => return Some(i as i64),
            Arg::Local(s) => &self.stack[(self.base + s) as usize],
            Arg::Capture(c) => &self.env.captures[c as usize],
            Arg::Stack => {
                // The second operand is on top; the first is below it when both are stacked.
                let depth = if !first || !matches!(other, Arg::Stack) { 1 } else { 2 };
                &self.stack[self.stack.len() - depth]
            }
        };
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Pop the stacked operands of a pair, which `int_arg` read as ints.
    #[inline]
    fn drop_args(&mut self, a: Arg, b: Arg) {
        // `matches!`, not `==`: the derived comparison also compares the payloads.
        let n = matches!(a, Arg::Stack) as usize + matches!(b, Arg::Stack) as usize;
        for _ in 0..n {
            // An int owns nothing: forgetting it skips the drop glue. Not
            // `truncate_stack`: its per-value test costs W1 24 instructions
            // per iteration here, where the values are known to be ints.
            let v = self.stack.pop();
            debug_assert!(matches!(v, Some(Value::Int(_))));
            std::mem::forget(v);
        }
    }

    /// Put both operands of a pair on the stack, in order, for the general path.
    fn materialize(&mut self, a: Arg, b: Arg) {
        let vb = self.take_arg(b);
        let va = self.take_arg(a);
        self.stack.push(va);
        self.stack.push(vb);
    }

    /// A tail call: move the `argc` arguments starting at `at` down to the
    /// running function's base and drop everything else of its frame.
    #[inline(always)]
    fn replace_frame(&mut self, at: usize, argc: u32) {
        // The arguments are the top `argc` values: swap them down over the
        // frame's values, then drop what is above them (`Vec::drain` does the
        // same with a drop guard and a `memmove` call, costlier than the rest
        // of a loop iteration).
        debug_assert_eq!(at + argc as usize, self.stack.len());
        let (base, argc) = (self.base as usize, argc as usize);
        if at == base {
            return;
        }
        let (frame, args) = self.stack.split_at_mut(at);
        if at - base >= argc {
            for (slot, arg) in frame[base..].iter_mut().zip(args) {
                std::mem::swap(slot, arg);
            }
        } else {
            overlapping_tail_call(&mut self.stack[base..], at - base);
        }
        self.truncate_stack(base + argc);
    }

    /// `Vec::truncate` for the stack: a value that owns nothing is popped
    /// without a call to the drop glue (`truncate` calls it per value: W1b
    /// spent ≈ 10 % of its instructions there).
    #[inline]
    pub fn truncate_stack(&mut self, len: usize) {
        while self.stack.len() > len {
            match self.stack.pop() {
                Some(v @ (Value::Unit | Value::Bool(_) | Value::Int(_) | Value::Cell(_))) => std::mem::forget(v),
                v => drop(v),
            }
        }
    }

    /// A closure environment for `group`, capturing from the current function.
    pub fn make_env(&mut self, group: u32) -> Rc<Env> {
        let g = &self.code.groups[group as usize];
        let captures: Box<[Value]> = g
            .captures
            .iter()
            .map(|s| match *s {
                crate::code::Source::Local(i) => self.stack[(self.base + i) as usize].clone(),
                crate::code::Source::Capture(i) => self.env.captures[i as usize].clone(),
                crate::code::Source::Rec(i) => Value::Fn(i, self.env.clone()),
            })
            .collect();
        Rc::new(Env { group, captures })
    }

    pub fn new_cell(&mut self, v: Value) -> Value {
        self.rule(Rule::SNew);
        self.cells.push(v);
        Value::Cell(CellRef::new(self.run, self.cells.len() as u32))
    }
}

impl Drop for Machine<'_, '_> {
    fn drop(&mut self) {
        self.fibers.graveyard().end_run();
    }
}

/// A tail call with fewer frame values (`frame_len`) than arguments: the
/// two ranges overlap, so the arguments rotate down. Out of line: it is rare,
/// and `rotate_left` inlined would crowd the loop.
#[cold]
#[inline(never)]
fn overlapping_tail_call(from_base: &mut [Value], frame_len: usize) {
    from_base.rotate_left(frame_len);
}

/// The int fast path of the comparison primitives.
#[inline]
fn compare(op: Prim, a: i64, b: i64) -> bool {
    match op {
        Prim::Eq => a == b,
        Prim::Ne => a != b,
        Prim::Lt => a < b,
        Prim::Le => a <= b,
        Prim::Gt => a > b,
        Prim::Ge => a >= b,
        _ => unreachable!("only comparisons"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kont_spec::{check_program, parse_program};

    /// The outcome of running `src` on the VM, as text.
    fn outcome(src: &str) -> String {
        outcome_and_spares(src).0
    }

    /// The outcome, and how many consumed continuation objects the machine
    /// kept for reuse at the end.
    fn outcome_and_spares(src: &str) -> (String, usize) {
        let (program, _) = parse_program(src).expect("parses");
        check_program(&program).expect("checks");
        let code = crate::compile(&program);
        let mut m = Machine::new(&code, crate::next_run(), Limits::default(), false, false);
        let text = match m.run_main(Vec::new()) {
            Exit::Finished(v) => format!("value {}", m.view(&v)),
            Exit::Failed(e, _) => format!("error {}", m.view(&e)),
            Exit::Exhausted(r) => format!("exhausted {}", r.name()),
            Exit::RunHost => unreachable!("no host code"),
        };
        (text, m.spare_conts.len())
    }

    /// A clause waiting for its last `resume` no longer holds the consumed
    /// continuation (its slot is moved out, `liveness.rs`): the object is
    /// recycled at the resume. A clause that reads `k` again keeps it, and
    /// sees it consumed.
    #[test]
    fn a_last_resume_moves_k_out_of_its_slot() {
        let waiting = "(with-handler ((A (x k) (+ 1 (resume k (+ x 1)))))
                         (letrec ((loop (i acc) (if (= i 0) acc (loop (- i 1) (+ acc (perform A i))))))
                           (loop 100 0)))";
        let (value, spares) = outcome_and_spares(waiting);
        assert_eq!(value, "value 5250");
        assert!(spares > 0, "the resumed continuations were not recycled");
        let rereads = "(with-handler ((A (x k) (let ((r (resume k (+ x 1)))) (list r (live? k) (= k k)))))
                         (perform A 1))";
        let (value, spares) = outcome_and_spares(rereads);
        assert_eq!(value, "value (list 2 false true)");
        assert_eq!(spares, 0, "k is still named after the resume");
    }

    /// `replace_frame`'s three shapes, with values that own heap memory (a
    /// value dropped twice or lost would show in the result or crash):
    /// as many frame values as arguments, more, and fewer (the ranges overlap).
    #[test]
    fn tail_calls_move_their_arguments_over_the_frame() {
        let equal = "(letrec ((loop (i acc) (if (= i 0) acc (loop (- i 1) (append acc (list (concat \"n\" \"\")))))))
                       (loop 3 (list)))";
        assert_eq!(outcome(equal), r#"value (list "n" "n" "n")"#);
        let more = "(letrec ((f (n s) (let ((t (concat s \"x\"))) (if (= n 0) t (f (- n 1) t))))) (f 2 \"\"))";
        assert_eq!(outcome(more), r#"value "xxx""#);
        let fewer = "(letrec ((g (a) (h a (list a) (concat \"s\" \"t\"))) (h (x y z) (list z y x))) (g (list 1)))";
        assert_eq!(outcome(fewer), r#"value (list "st" (list (list 1)) (list 1))"#);
        // A closure called in tail position (`TailCall`): its slot is below the arguments.
        let closure =
            "(let ((k (fn (x y) (list y x)))) (letrec ((f (a b c) (k (list a) (concat b c)))) (f 1 \"p\" \"q\")))";
        assert_eq!(outcome(closure), r#"value (list "pq" (list 1))"#);
    }
}
