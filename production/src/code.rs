//! Compiled programs: flat instruction arrays per function (`Proto`), with
//! variables resolved to local slots or captured-environment indices.

use kont_spec::ast::{HandlerExpr, InterceptExpr, Label, Prim, ResumeMode};
use kont_spec::NodeId;

pub type ProtoId = u32;
pub type LabelId = u32;

/// An operand an instruction reads itself: from the stack (popped), a local
/// slot, a captured value, or a small literal. Reading a variable or literal
/// has no observable effect, so reading it late is the same as reading it in
/// evaluation order; its fuel is charged by the instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    Stack,
    Local(u32),
    Capture(u32),
    Int(i32),
}

/// One instruction. `fuel` is the number of expression nodes entered just
/// before it executes (SPEC.md R-Fuel): charging it here keeps fuel exact.
#[derive(Clone, Copy, Debug)]
pub struct Instr {
    pub op: Op,
    pub fuel: u32,
}

#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// Push a literal from the constant pool.
    Const(u32),
    Unit,
    Bool(bool),
    /// A small integer literal (others go through the constant pool).
    Int(i32),
    /// Push local slot `n` of the current function.
    Local(u32),
    /// Push captured value `n` of the current function's environment.
    Capture(u32),
    /// Push member `n` of the current `letrec` group.
    Rec(u32),
    /// Pop into local slot `n`.
    SetLocal(u32),
    Pop,
    Jump(u32),
    /// Pop a bool; jump when false; a non-bool is E-If-Type at `node`.
    JumpIfNot {
        target: u32,
        node: NodeId,
    },
    /// Build a closure environment for group `group` and push member 0 of it.
    MakeFn {
        group: u32,
    },
    /// Build a `letrec` group and store its members in consecutive locals.
    MakeRec {
        group: u32,
        slot: u32,
    },
    Call {
        argc: u32,
        node: NodeId,
    },
    TailCall {
        argc: u32,
        node: NodeId,
    },
    Return,
    Prim {
        op: Prim,
        argc: u32,
        node: NodeId,
    },
    /// A binary arithmetic or comparison primitive reading its operands
    /// directly: a fast path for two ints, `Prim` semantics otherwise.
    Arith {
        op: Prim,
        a: Arg,
        b: Arg,
        node: NodeId,
    },
    /// `(if (cmp a b) ...)`: compare and jump to `target` when false.
    Branch {
        op: Prim,
        a: Arg,
        b: Arg,
        target: u32,
        node: NodeId,
    },
    /// Call member `member` of the running function's own `letrec` group.
    CallRec {
        member: u32,
        argc: u32,
        tail: bool,
        node: NodeId,
    },
    Emit,
    /// `(mark "tag" v)`, the tag from the constant pool.
    Mark {
        tag: u32,
    },
    MakeEffect {
        label: LabelId,
    },
    Perform {
        label: LabelId,
        arg: Arg,
        node: NodeId,
    },
    PerformValue {
        node: NodeId,
    },
    WithHandler {
        def: u32,
    },
    /// The interceptor/observer function is on the stack.
    WithIntercept {
        def: u32,
    },
    Resume {
        mode: ResumeMode,
        throw: bool,
        /// `k` is a local read for the last time (see `liveness.rs`): move
        /// it out of its slot.
        take: bool,
        k: Arg,
        v: Arg,
        node: NodeId,
    },
    Pass {
        effect: bool,
        node: NodeId,
    },
    Raise {
        node: NodeId,
    },
    NewCont {
        envelope: bool,
        node: NodeId,
    },
    TryEnter {
        def: u32,
    },
    TryEnd,
    /// The catch code of try `def` finished with its value on the stack.
    CatchEnd {
        def: u32,
    },
    FinallyEnd,
}

/// A compiled function body.
#[derive(Clone, Debug)]
pub struct Proto {
    pub code: Vec<Instr>,
    pub nparams: u32,
    /// Parameters plus `let`-bound slots.
    pub nlocals: u32,
    /// `letrec` name, shown as `#fn:name`.
    pub name: Option<String>,
}

/// Where a closure environment takes each captured value from, in the
/// function that creates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Local(u32),
    Capture(u32),
    Rec(u32),
}

/// Functions sharing one environment: a lambda alone, a `letrec` group, or a
/// handler's body and clauses.
#[derive(Clone, Debug)]
pub struct Group {
    pub protos: Vec<ProtoId>,
    pub captures: Vec<Source>,
}

/// A `with-handler`: its group is `[body, clause…]`.
#[derive(Clone, Debug)]
pub struct HandlerDef<'p> {
    pub group: u32,
    pub expr: &'p HandlerExpr,
    /// Label → clause index (into `expr.clauses`, and group member index + 1).
    pub clauses: Vec<(LabelId, u32)>,
    /// `label_bit` of every label in `clauses`: a clear bit lets dispatch
    /// skip the clause search for a handler of other labels.
    pub label_mask: u64,
    pub otherwise: Option<u32>,
    pub only: Option<Vec<LabelId>>,
    pub name: String,
    /// Run by a built-in instead of its clauses (the standard prelude's own
    /// handler, natives enabled).
    pub native: Option<Builtin>,
    /// Per clause: its shape when it is a plain `(transfer k e)` (see `tail_transfer.rs`).
    pub tail_transfer: Vec<Option<crate::tail_transfer::TailTransfer>>,
}

/// A built-in implementation the compiler chose for a handler: an opaque
/// index here; what it is belongs to `native/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Builtin(pub u8);

impl HandlerDef<'_> {
    /// The clause taking `label`, if the handler takes part (SPEC.md §5.4).
    #[inline]
    pub fn clause_for(&self, label: LabelId) -> Option<u32> {
        if let Some(only) = &self.only {
            if !only.contains(&label) {
                return None;
            }
        }
        self.clause_ignoring_filter(label)
    }

    /// The clause for `label` as if there were no `:only` filter (the
    /// `FilterIgnored` fault).
    #[inline]
    pub fn clause_ignoring_filter(&self, label: LabelId) -> Option<u32> {
        if self.label_mask & label_bit(label) != 0 {
            for &(l, i) in &self.clauses {
                if l == label {
                    return Some(i);
                }
            }
        }
        self.otherwise
    }
}

/// A label's bit in `HandlerDef::label_mask` (labels share bits modulo 64).
#[inline]
pub fn label_bit(label: LabelId) -> u64 {
    1 << (label % 64)
}

impl HandlerDef<'_> {
    /// The labels the handler may take, as `takes_bit`s: a clear bit means
    /// `clause_for` is `None` (a catch-all takes every label; `:only` can only
    /// take fewer).
    pub fn takes(&self) -> u32 {
        if self.otherwise.is_some() {
            return u32::MAX;
        }
        self.clauses.iter().fold(0, |m, &(l, _)| m | takes_bit(l))
    }
}

/// A label's bit in `HandlerDef::takes` (labels share bits modulo 32).
#[inline]
pub fn takes_bit(label: LabelId) -> u32 {
    1 << (label % 32)
}

/// A `with-intercept` / `with-observe`: its group is `[body]`.
#[derive(Clone, Debug)]
pub struct InterceptDef<'p> {
    pub group: u32,
    pub expr: &'p InterceptExpr,
    pub only: Option<Vec<LabelId>>,
    pub observe: bool,
    pub node: NodeId,
}

impl InterceptDef<'_> {
    #[inline]
    pub fn matches(&self, label: LabelId) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(&label))
    }
}

/// A `try`: where its catch and finally code start, and where it ends.
#[derive(Clone, Debug, Default)]
pub struct TryDef {
    pub catch_pc: Option<u32>,
    pub finally_pc: Option<u32>,
    pub after_pc: u32,
    pub node: NodeId,
}

/// A whole compiled program.
#[derive(Clone)]
pub struct Code<'p> {
    pub protos: Vec<Proto>,
    pub groups: Vec<Group>,
    pub consts: Vec<crate::value::Value>,
    pub handlers: Vec<HandlerDef<'p>>,
    pub intercepts: Vec<InterceptDef<'p>>,
    pub tries: Vec<TryDef>,
    pub labels: Vec<Label>,
    /// The program body: group 0, member 0; its parameters are the inputs.
    pub main: ProtoId,
}

impl Code<'_> {
    /// Whether some handler clause can take the tail-transfer shortcut.
    pub fn has_tail_transfer(&self) -> bool {
        self.handlers.iter().any(|h| h.tail_transfer.iter().any(Option::is_some))
    }
}

// The instruction loop reads one of these per step: keep it small.
const _: [(); 32] = [(); std::mem::size_of::<Instr>()];

#[cfg(test)]
mod tests {
    use super::*;
    use kont_spec::{check_program, parse_program};

    /// A clear `takes` bit must mean the handler takes no clause for the
    /// label: 40 labels (bits shared modulo 32), labelled clauses, a
    /// catch-all and an `:only` filter.
    #[test]
    fn a_clear_takes_bit_means_no_clause() {
        let labels: Vec<String> = (0..40).map(|i| format!("L{i}")).collect();
        let performs: String = labels.iter().map(|l| format!("(perform {l} 1) ")).collect();
        let src = format!(
            "(with-handler ((L0 (x k) (transfer k x)) (L33 (x k) (transfer k x)))
               (with-handler ((else (e k) (transfer k 0)))
                 (with-handler :only (L1 L5) ((L1 (x k) (transfer k x)) (L7 (x k) (transfer k x)))
                   (do {performs}))))"
        );
        let (program, _) = parse_program(&src).expect("parses");
        check_program(&program).expect("checks");
        let code = crate::compile(&program);
        assert_eq!(code.handlers.len(), 3);
        let mut taken = 0;
        for h in &code.handlers {
            for label in 0..code.labels.len() as LabelId {
                if h.clause_for(label).is_some() || h.clause_ignoring_filter(label).is_some() {
                    taken += 1;
                    assert_ne!(h.takes() & takes_bit(label), 0, "{} takes {}", h.name, code.labels[label as usize]);
                }
            }
        }
        assert!(taken > 40, "the catch-all takes every label");
    }
}
