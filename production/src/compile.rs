//! The compiler: a checked program to flat code. Variables become local
//! slots or indices into a closure environment shared by a group of
//! functions; tail calls are marked; every instruction carries the fuel of
//! the nodes entered just before it.

use std::collections::HashMap;

use kont_spec::ast::*;
use kont_spec::deep::grow;

use crate::code::*;
use crate::value::Value;

/// Compile `program` (which must have passed `check_program`), running the
/// standard prelude's handlers natively.
pub fn compile(program: &Program) -> Code<'_> {
    compile_with(program, true)
}

/// Compile `program`; `natives` says whether the standard prelude's
/// `:native` handlers run natively or as their clauses.
pub fn compile_with(program: &Program, natives: bool) -> Code<'_> {
    compile_program(program, natives, true)
}

/// `compile_with`; `prefix` says whether a standard prelude's group is
/// copied from the thread's `StdPrefix` (always, but in the test that
/// checks the copy against compiling it).
fn compile_program(program: &Program, natives: bool, prefix: bool) -> Code<'_> {
    let std = crate::native::is_std(program);
    let natives = if natives && std { crate::native::std_handlers() } else { HashMap::new() };
    let mut c = Compiler::new(natives);
    c.std_root = (std && prefix).then_some(&program.body);
    let g = c.open_group(Vec::new(), Vec::new(), None);
    let inputs: Vec<&str> = program.inputs.iter().map(String::as_str).collect();
    c.code.main = c.function(g, &inputs, &program.body, None);
    c.close_group(g);
    c.code
}

/// The compiler's state just after the standard prelude's `letrec` group of
/// a wrapped program is compiled. The group is the same in every such
/// program (its nodes come first and it captures nothing from outside), so
/// each thread compiles it once per `natives` setting and copies it in:
/// otherwise compiling the prelude dominates a short program's run.
struct StdPrefix {
    code: Code<'static>,
    label_ids: HashMap<&'static str, LabelId>,
    group: u32,
}

thread_local! {
    static STD_PREFIX: [std::cell::OnceCell<std::rc::Rc<StdPrefix>>; 2] = Default::default();
}

impl StdPrefix {
    fn get(natives: bool) -> std::rc::Rc<StdPrefix> {
        STD_PREFIX
            .with(|cache| cache[natives as usize].get_or_init(|| std::rc::Rc::new(StdPrefix::compile(natives))).clone())
    }

    /// What `compile_with` does up to the end of the prelude's group, on the
    /// prelude wrapped around `unit`.
    fn compile(natives: bool) -> StdPrefix {
        let program = crate::native::std_program();
        let ExprKind::Letrec { funs, .. } = &program.body.kind else { unreachable!("a wrapped program is a letrec") };
        let mut c = Compiler::new(if natives { crate::native::std_handlers() } else { HashMap::new() });
        let g = c.open_group(Vec::new(), Vec::new(), None);
        c.scopes.push(Scope::new(g, &[]));
        let group = c.rec_group(funs);
        debug_assert!(c.groups[g].captures.is_empty(), "the prelude captures nothing");
        StdPrefix { code: c.code, label_ids: c.label_ids, group }
    }
}

struct Compiler<'p> {
    code: Code<'p>,
    label_ids: HashMap<&'p str, LabelId>,
    scopes: Vec<Scope<'p>>,
    groups: Vec<GroupCtx<'p>>,
    /// `with-handler` nodes to run natively.
    natives: HashMap<NodeId, crate::native::NativeKind>,
    /// The root `letrec` when it is the standard prelude's (see `StdPrefix`).
    std_root: Option<&'p Expr>,
}

/// A function being compiled.
struct Scope<'p> {
    instrs: Vec<Instr>,
    /// Nodes entered since the last instruction.
    pending: u32,
    locals: Vec<(&'p str, u32)>,
    next_slot: u32,
    max_slot: u32,
    group: usize,
    /// Inside a `try`: calls are not tail calls.
    try_depth: u32,
    /// The `Resume` instructions whose `k` is a local.
    local_resumes: Vec<usize>,
}

impl<'p> Scope<'p> {
    fn new(group: usize, params: &[&'p str]) -> Scope<'p> {
        let n = params.len() as u32;
        Scope {
            instrs: Vec::new(),
            pending: 0,
            locals: params.iter().enumerate().map(|(i, p)| (*p, i as u32)).collect(),
            next_slot: n,
            max_slot: n,
            group,
            try_depth: 0,
            local_resumes: Vec::new(),
        }
    }

    /// Let the `Resume` instructions that read their local `k` for the last
    /// time in the function whose body is `body` move it out of its slot
    /// (`liveness.rs`; only functions that have such an instruction are walked).
    fn take_last_uses(&mut self, body: &Expr) {
        if self.local_resumes.is_empty() {
            return;
        }
        let last = crate::liveness::last_uses(body);
        for &at in &self.local_resumes {
            if let Op::Resume { take, node, .. } = &mut self.instrs[at].op {
                *take = last.contains(node);
            }
        }
    }
}

/// A group being compiled: its members' names (for `letrec`) and the values
/// it captures from the scope that creates it.
struct GroupCtx<'p> {
    id: u32,
    members: Vec<&'p str>,
    /// Parameter counts of `members`.
    arities: Vec<usize>,
    captures: Vec<(&'p str, Source)>,
    parent: Option<usize>,
}

impl<'p> Compiler<'p> {
    fn new(natives: HashMap<NodeId, crate::native::NativeKind>) -> Compiler<'p> {
        Compiler {
            code: Code {
                protos: Vec::new(),
                groups: Vec::new(),
                consts: Vec::new(),
                handlers: Vec::new(),
                intercepts: Vec::new(),
                tries: Vec::new(),
                labels: Vec::new(),
                main: 0,
            },
            label_ids: HashMap::new(),
            scopes: Vec::new(),
            groups: Vec::new(),
            natives,
            std_root: None,
        }
    }

    fn label(&mut self, l: &'p Label) -> LabelId {
        if let Some(&id) = self.label_ids.get(l.as_str()) {
            return id;
        }
        let id = self.code.labels.len() as LabelId;
        self.code.labels.push(l.clone());
        self.label_ids.insert(l.as_str(), id);
        id
    }

    fn open_group(&mut self, members: Vec<&'p str>, arities: Vec<usize>, parent: Option<usize>) -> usize {
        let id = self.code.groups.len() as u32;
        self.code.groups.push(Group { protos: Vec::new(), captures: Vec::new() });
        self.groups.push(GroupCtx { id, members, arities, captures: Vec::new(), parent });
        self.groups.len() - 1
    }

    fn close_group(&mut self, g: usize) -> u32 {
        let ctx = self.groups.pop().expect("open group");
        debug_assert_eq!(g, self.groups.len());
        let group = &mut self.code.groups[ctx.id as usize];
        group.captures = ctx.captures.into_iter().map(|(_, s)| s).collect();
        ctx.id
    }

    /// Compile one function of group `g` with parameters `params`.
    fn function(&mut self, g: usize, params: &[&'p str], body: &'p Expr, name: Option<String>) -> ProtoId {
        let n = params.len() as u32;
        self.scopes.push(Scope::new(g, params));
        self.expr(body, true);
        self.emit(Op::Return);
        let mut s = self.scopes.pop().expect("open scope");
        s.take_last_uses(body);
        debug_assert_eq!(s.pending, 0);
        let id = self.code.protos.len() as ProtoId;
        self.code.protos.push(Proto { code: s.instrs, nparams: n, nlocals: s.max_slot, name });
        self.code.groups[self.groups[g].id as usize].protos.push(id);
        id
    }

    /// Compile a `letrec` group; its id.
    fn rec_group(&mut self, funs: &'p [FunDef]) -> u32 {
        let names = funs.iter().map(|f| f.name.as_str()).collect();
        let arities = funs.iter().map(|f| f.lambda.params.len()).collect();
        let g = self.open_group(names, arities, Some(self.scopes.len() - 1));
        for f in funs {
            let params: Vec<&str> = f.lambda.params.iter().map(String::as_str).collect();
            self.function(g, &params, &f.lambda.body, Some(f.name.clone()));
        }
        self.close_group(g)
    }

    /// The standard prelude's group, copied from this thread's `StdPrefix`.
    /// Nothing has been compiled yet but the root group's (empty) entry.
    fn std_prefix(&mut self) -> u32 {
        debug_assert!(self.code.protos.is_empty() && self.code.groups.len() == 1 && self.label_ids.is_empty());
        let prefix = StdPrefix::get(!self.natives.is_empty());
        self.code = prefix.code.clone();
        self.label_ids = prefix.label_ids.clone();
        prefix.group
    }

    fn scope(&mut self) -> &mut Scope<'p> {
        self.scopes.last_mut().expect("inside a function")
    }

    fn emit(&mut self, op: Op) -> usize {
        let s = self.scope();
        let fuel = std::mem::take(&mut s.pending);
        s.instrs.push(Instr { op, fuel });
        s.instrs.len() - 1
    }

    fn here(&mut self) -> u32 {
        self.scope().instrs.len() as u32
    }

    fn patch(&mut self, at: usize, target: u32) {
        match &mut self.scope().instrs[at].op {
            Op::Jump(t) | Op::JumpIfNot { target: t, .. } | Op::Branch { target: t, .. } => *t = target,
            _ => unreachable!("only jumps are patched"),
        }
    }

    fn bind(&mut self, name: &'p str) -> u32 {
        let s = self.scope();
        let slot = s.next_slot;
        s.next_slot += 1;
        s.max_slot = s.max_slot.max(s.next_slot);
        s.locals.push((name, slot));
        slot
    }

    fn unbind(&mut self, n: usize) {
        let s = self.scope();
        for _ in 0..n {
            s.locals.pop();
            s.next_slot -= 1;
        }
    }

    /// Where variable `x` lives, seen from scope `i`.
    fn resolve(&mut self, i: usize, x: &'p str) -> Source {
        if let Some(&(_, slot)) = self.scopes[i].locals.iter().rev().find(|(n, _)| *n == x) {
            return Source::Local(slot);
        }
        let g = self.scopes[i].group;
        if let Some(m) = self.groups[g].members.iter().position(|n| *n == x) {
            return Source::Rec(m as u32);
        }
        if let Some(c) = self.groups[g].captures.iter().position(|(n, _)| *n == x) {
            return Source::Capture(c as u32);
        }
        let parent = self.groups[g].parent.unwrap_or_else(|| panic!("unbound variable `{x}` passed the static check"));
        let src = self.resolve(parent, x);
        self.groups[g].captures.push((x, src));
        Source::Capture(self.groups[g].captures.len() as u32 - 1)
    }

    fn load(&mut self, x: &'p str) {
        let i = self.scopes.len() - 1;
        let op = match self.resolve(i, x) {
            Source::Local(s) => Op::Local(s),
            Source::Capture(c) => Op::Capture(c),
            Source::Rec(m) => Op::Rec(m),
        };
        self.emit(op);
    }

    /// An operand for an instruction to read itself (see `Arg`), or `Stack`
    /// after compiling `e` to push its value.
    fn arg(&mut self, e: &'p Expr) -> Arg {
        let i = self.scopes.len() - 1;
        let direct = match &e.kind {
            ExprKind::Var(x) => match self.resolve(i, x) {
                Source::Local(s) => Some(Arg::Local(s)),
                Source::Capture(c) => Some(Arg::Capture(c)),
                Source::Rec(_) => None,
            },
            ExprKind::Lit(Lit::Int(n)) => i32::try_from(*n).ok().map(Arg::Int),
            _ => None,
        };
        match direct {
            Some(a) => {
                self.scope().pending += 1;
                a
            }
            None => {
                self.expr(e, false);
                Arg::Stack
            }
        }
    }

    fn expr(&mut self, e: &'p Expr, tail: bool) {
        grow(|| self.expr_inner(e, tail))
    }

    fn expr_inner(&mut self, e: &'p Expr, tail: bool) {
        self.scope().pending += 1;
        let n = e.id;
        match &e.kind {
            ExprKind::Lit(l) => {
                let op = match l {
                    Lit::Unit => Op::Unit,
                    Lit::Bool(b) => Op::Bool(*b),
                    Lit::Int(i) => match i32::try_from(*i) {
                        Ok(small) => Op::Int(small),
                        Err(_) => {
                            self.code.consts.push(Value::Int(*i));
                            Op::Const(self.code.consts.len() as u32 - 1)
                        }
                    },
                    Lit::Str(s) => {
                        self.code.consts.push(Value::str(s));
                        Op::Const(self.code.consts.len() as u32 - 1)
                    }
                };
                self.emit(op);
            }
            ExprKind::Var(x) => self.load(x),
            ExprKind::Let { name, value, body } => {
                self.expr(value, false);
                let slot = self.bind(name);
                self.emit(Op::SetLocal(slot));
                self.expr(body, tail);
                self.unbind(1);
            }
            ExprKind::Do(es) => {
                let (last, init) = es.split_last().expect("non-empty do");
                for x in init {
                    if matches!(x.kind, ExprKind::Lit(_) | ExprKind::Var(_)) {
                        // A discarded variable or literal does nothing but spend its fuel.
                        self.scope().pending += 1;
                        continue;
                    }
                    self.expr(x, false);
                    self.emit(Op::Pop);
                }
                self.expr(last, tail);
            }
            ExprKind::If { cond, then, els } => {
                let j = match &cond.kind {
                    ExprKind::Prim { op, args } if is_comparison(*op) => {
                        self.scope().pending += 1;
                        let a = self.arg(&args[0]);
                        let b = self.arg(&args[1]);
                        self.emit(Op::Branch { op: *op, a, b, target: 0, node: cond.id })
                    }
                    _ => {
                        self.expr(cond, false);
                        self.emit(Op::JumpIfNot { target: 0, node: n })
                    }
                };
                self.expr(then, tail);
                let j2 = self.emit(Op::Jump(0));
                let t = self.here();
                self.patch(j, t);
                self.expr(els, tail);
                let t = self.here();
                self.patch(j2, t);
            }
            ExprKind::Fn(l) => {
                let g = self.open_group(Vec::new(), Vec::new(), Some(self.scopes.len() - 1));
                let params: Vec<&str> = l.params.iter().map(String::as_str).collect();
                self.function(g, &params, &l.body, None);
                let group = self.close_group(g);
                self.emit(Op::MakeFn { group });
            }
            ExprKind::Letrec { funs, body } => {
                let names: Vec<&str> = funs.iter().map(|f| f.name.as_str()).collect();
                let group = if self.std_root.is_some_and(|r| std::ptr::eq(r, e)) {
                    self.std_prefix()
                } else {
                    self.rec_group(funs)
                };
                let slot = self.scope().next_slot;
                for name in &names {
                    self.bind(name);
                }
                self.emit(Op::MakeRec { group, slot });
                self.expr(body, tail);
                self.unbind(names.len());
            }
            ExprKind::Call { func, args } => {
                if let Some(member) = self.rec_member(func, args.len()) {
                    self.scope().pending += 1;
                    for a in args {
                        self.expr(a, false);
                    }
                    let tail = tail && self.scope().try_depth == 0;
                    self.emit(Op::CallRec { member, argc: args.len() as u32, tail, node: n });
                    return;
                }
                self.expr(func, false);
                for a in args {
                    self.expr(a, false);
                }
                let argc = args.len() as u32;
                if tail && self.scope().try_depth == 0 {
                    self.emit(Op::TailCall { argc, node: n });
                } else {
                    self.emit(Op::Call { argc, node: n });
                }
            }
            ExprKind::Prim { op, args } => {
                if matches!(op, Prim::Add | Prim::Sub | Prim::Mul) || is_comparison(*op) {
                    let a = self.arg(&args[0]);
                    let b = self.arg(&args[1]);
                    self.emit(Op::Arith { op: *op, a, b, node: n });
                } else {
                    for a in args {
                        self.expr(a, false);
                    }
                    self.emit(Op::Prim { op: *op, argc: args.len() as u32, node: n });
                }
            }
            ExprKind::Emit(x) => {
                self.expr(x, false);
                self.emit(Op::Emit);
            }
            ExprKind::Mark { tag, arg } => {
                self.expr(arg, false);
                self.code.consts.push(Value::str(tag));
                let tag = self.code.consts.len() as u32 - 1;
                self.emit(Op::Mark { tag });
            }
            ExprKind::MakeEffect { label, arg } => {
                self.expr(arg, false);
                let label = self.label(label);
                self.emit(Op::MakeEffect { label });
            }
            ExprKind::Perform { label, arg } => {
                let arg = self.arg(arg);
                let label = self.label(label);
                self.emit(Op::Perform { label, arg, node: n });
            }
            ExprKind::PerformValue(x) => {
                self.expr(x, false);
                self.emit(Op::PerformValue { node: n });
            }
            ExprKind::WithHandler(h) => {
                let g = self.open_group(Vec::new(), Vec::new(), Some(self.scopes.len() - 1));
                self.function(g, &[], &h.body, None);
                for c in &h.clauses {
                    self.function(g, &[c.param.as_str(), c.k.as_str()], &c.body, None);
                }
                let group = self.close_group(g);
                let mut clauses = Vec::new();
                let mut otherwise = None;
                for (i, c) in h.clauses.iter().enumerate() {
                    match &c.label {
                        Some(l) => {
                            let l = self.label(l);
                            clauses.push((l, i as u32));
                        }
                        None => otherwise = Some(i as u32),
                    }
                }
                let only = h.only.as_ref().map(|ls| ls.iter().map(|l| self.label(l)).collect());
                let label_mask = clauses.iter().fold(0, |m, &(l, _)| m | crate::code::label_bit(l));
                let tail_transfer = (h.clauses.iter().enumerate())
                    .map(|(i, c)| {
                        c.label.as_ref()?;
                        let proto = self.code.groups[group as usize].protos[i + 1];
                        crate::tail_transfer::analyse(&self.code.protos[proto as usize].code)
                    })
                    .collect();
                self.code.handlers.push(HandlerDef {
                    group,
                    expr: h,
                    label_mask,
                    clauses,
                    otherwise,
                    only,
                    name: h.display_name(),
                    native: self.natives.get(&e.id).map(|k| k.builtin()),
                    tail_transfer,
                });
                let def = self.code.handlers.len() as u32 - 1;
                self.emit(Op::WithHandler { def });
            }
            ExprKind::WithIntercept(x) => {
                self.expr(&x.func, false);
                let g = self.open_group(Vec::new(), Vec::new(), Some(self.scopes.len() - 1));
                self.function(g, &[], &x.body, None);
                let group = self.close_group(g);
                let only = x.only.as_ref().map(|ls| ls.iter().map(|l| self.label(l)).collect());
                self.code.intercepts.push(InterceptDef {
                    group,
                    expr: x,
                    only,
                    observe: x.kind == InterceptKind::Observe,
                    node: n,
                });
                let def = self.code.intercepts.len() as u32 - 1;
                self.emit(Op::WithIntercept { def });
            }
            ExprKind::Resume { mode, throw, k, arg } => {
                let k = self.arg(k);
                let v = self.arg(arg);
                // `take` is set once the whole function is seen (`Scope::take_last_uses`).
                let at = self.emit(Op::Resume { mode: *mode, throw: *throw, take: false, k, v, node: n });
                if matches!(k, Arg::Local(_)) {
                    self.scope().local_resumes.push(at);
                }
            }
            ExprKind::Pass { k, effect } => {
                self.expr(k, false);
                if let Some(x) = effect {
                    self.expr(x, false);
                }
                self.emit(Op::Pass { effect: effect.is_some(), node: n });
            }
            ExprKind::Raise(x) => {
                self.expr(x, false);
                self.emit(Op::Raise { node: n });
            }
            ExprKind::NewCont { func, envelope } => {
                self.expr(func, false);
                if let Some(k) = envelope {
                    self.expr(k, false);
                }
                self.emit(Op::NewCont { envelope: envelope.is_some(), node: n });
            }
            ExprKind::Try(t) => {
                let def = self.code.tries.len() as u32;
                self.code.tries.push(TryDef { node: n, ..TryDef::default() });
                self.emit(Op::TryEnter { def });
                self.scope().try_depth += 1;
                self.expr(&t.body, false);
                self.emit(Op::TryEnd);
                let mut to_after = vec![self.emit(Op::Jump(0))];
                if let Some((x, h)) = &t.catch {
                    let pc = self.here();
                    self.code.tries[def as usize].catch_pc = Some(pc);
                    let slot = self.bind(x);
                    self.emit(Op::SetLocal(slot));
                    self.expr(h, false);
                    self.unbind(1);
                    self.emit(Op::CatchEnd { def });
                    to_after.push(self.emit(Op::Jump(0)));
                }
                if let Some(f) = &t.finally {
                    let pc = self.here();
                    self.code.tries[def as usize].finally_pc = Some(pc);
                    self.expr(f, false);
                    self.emit(Op::Pop);
                    self.emit(Op::FinallyEnd);
                }
                self.scope().try_depth -= 1;
                let after = self.here();
                self.code.tries[def as usize].after_pc = after;
                for j in to_after {
                    self.patch(j, after);
                }
            }
        }
    }
}

fn is_comparison(op: Prim) -> bool {
    matches!(op, Prim::Eq | Prim::Ne | Prim::Lt | Prim::Le | Prim::Gt | Prim::Ge)
}

impl<'p> Compiler<'p> {
    /// The member index when `func` names a sibling in the running function's
    /// own `letrec` group that takes `argc` parameters.
    fn rec_member(&mut self, func: &'p Expr, argc: usize) -> Option<u32> {
        let ExprKind::Var(x) = &func.kind else { return None };
        let i = self.scopes.len() - 1;
        match self.resolve(i, x) {
            Source::Rec(m) if self.groups[self.scopes[i].group].arities[m as usize] == argc => Some(m),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a compiled program holds, as text.
    fn dump(code: &Code) -> String {
        let consts: Vec<String> = code.consts.iter().map(|v| v.view(code, 0).to_string()).collect();
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{}",
            code.protos, code.groups, consts, code.handlers, code.intercepts, code.tries, code.labels, code.main
        )
    }

    /// The copied prelude group is the compiled one: the same code, ids,
    /// labels and constants, natives on and off, whatever the program around.
    #[test]
    fn the_std_prefix_is_what_compiling_the_prelude_gives() {
        let std = kont_spec::prelude::Prelude::std();
        for src in [
            "unit",
            "(run-scheduled (fn (u) (gather (list (spawn (fn (v) (perform Tick 1))) (spawn (fn (v) 2))))))",
            "(with-handler ((Tick (x k) (resume k x))) (run-await (fn (u) (await 5 true 1))))",
            "(let ((c (new-cell \"x\"))) (with-cache (fn (u) (do (cache-put 1 c) (cache-get 1)))))",
        ] {
            let (bare, map) = kont_spec::syntax::parse_program(src).expect("parses");
            let (program, _) = std.wrap(bare, &map);
            assert!(crate::native::is_std(&program));
            for natives in [true, false] {
                let copied = dump(&compile_program(&program, natives, true));
                let compiled = dump(&compile_program(&program, natives, false));
                assert_eq!(copied, compiled, "{src} (natives {natives})");
            }
        }
    }
}
