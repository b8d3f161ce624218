//! The interpreter's global state σ (SPEC.md §4.1): the store, the output
//! log, the id counters, fuel and the trace. Everything a continuation does
//! NOT own lives here.

use kont_spec::deep::grow;
use kont_spec::{ContId, DispatchId, ErrorTag, Event, Limits, NodeId, Resource, Rule, RuleCounts, ScopeId, ValueView};

use crate::res::Res;
use crate::value::{Store, Value};

pub struct Interp<'p> {
    /// This run's identity; continuations and cells are tagged with it.
    pub run: u64,
    pub store: Store<'p>,
    pub output: Vec<ValueView>,
    fuel: u64,
    pub steps: u64,
    depth: u32,
    max_depth: u32,
    /// Memory left and spent (R-Memory, memory.rs).
    pub memory: u64,
    pub memory_spent: u64,
    trace: Option<Vec<Event>>,
    counts: Option<RuleCounts>,
    scopes: ScopeId,
    dispatches: DispatchId,
    conts: ContId,
}

impl<'p> Interp<'p> {
    pub fn new(run: u64, limits: Limits, trace: bool, count: bool) -> Interp<'p> {
        Interp {
            run,
            store: Store::default(),
            output: Vec::new(),
            fuel: limits.fuel,
            steps: 0,
            depth: 0,
            max_depth: limits.depth,
            memory: limits.memory,
            memory_spent: 0,
            trace: trace.then(Vec::new),
            counts: count.then(RuleCounts::default),
            scopes: 0,
            dispatches: 0,
            conts: 0,
        }
    }

    pub fn into_parts(self) -> (Vec<ValueView>, Vec<Event>, u64, u64, Option<RuleCounts>) {
        (self.output, self.trace.unwrap_or_default(), self.steps, self.memory_spent, self.counts)
    }

    /// Record that `rule` fired. A rule is counted once, where it applies:
    /// after the sub-evaluations its premises name have given values, at the
    /// point where it decides the result or hands its tail on (E-Let when
    /// its bound value arrives, E-If after the condition, E-Do when the last
    /// expression is reached). A rule whose premise ends otherwise is not
    /// counted: P-Op, P-Err or P-Esc is.
    #[inline]
    pub fn rule(&mut self, rule: Rule) {
        if let Some(c) = &mut self.counts {
            c.hit(rule);
        }
    }

    /// Append a trace event (built only when tracing); `event` gets the
    /// run's identity, which views of values need (§3.2).
    #[inline]
    pub fn emit(&mut self, event: impl FnOnce(u64) -> Event) {
        if let Some(t) = &mut self.trace {
            t.push(event(self.run));
        }
    }

    /// R-Fuel: every expression evaluation costs one unit, charged first.
    pub fn charge(&mut self) -> bool {
        if self.fuel == 0 {
            self.rule(Rule::RFuel);
            return false;
        }
        self.fuel -= 1;
        self.steps += 1;
        true
    }

    /// Run `f` one level deeper in the native recursion (R-Depth), on a grown
    /// stack if needed.
    pub fn nested(&mut self, f: impl FnOnce(&mut Interp<'p>) -> Res<'p>) -> Res<'p> {
        if self.depth >= self.max_depth {
            self.rule(Rule::RDepth);
            return Res::Exh(Resource::Depth);
        }
        self.depth += 1;
        let r = grow(|| f(self));
        self.depth -= 1;
        r
    }

    pub fn new_scope(&mut self) -> ScopeId {
        self.scopes += 1;
        self.scopes
    }

    pub fn new_dispatch(&mut self) -> DispatchId {
        self.dispatches += 1;
        self.dispatches
    }

    pub fn new_cont_id(&mut self) -> ContId {
        self.conts += 1;
        self.conts
    }

    /// Raise a runtime error with a message payload (built by `kont_spec::errors`) at `site`.
    pub fn fail(&mut self, error: ValueView, site: NodeId) -> Res<'p> {
        self.emit(|_| Event::Raise { error: error.clone(), site });
        Res::Err(Value::from_view(&error), site)
    }

    /// Raise a runtime error whose payload is the offending value.
    pub fn fail_with(&mut self, tag: ErrorTag, payload: Value<'p>, site: NodeId) -> Res<'p> {
        let error = Value::error(tag.name(), payload);
        self.emit(|run| Event::Raise { error: error.view(run), site });
        Res::Err(error, site)
    }
}
