//! kont programs as Python programs on kont's Python API (SPEC.md §14).
//!
//! Every kont function, clause, handler body and interceptor body becomes a
//! Python generator function; expressions are flattened into statements
//! where Python needs them (`let`, `try`, `if` with statement branches) and
//! operands that would be evaluated out of order are spilled into
//! temporaries, so evaluation order is kont's (left to right). Each kont
//! binding gets its own Python name (`x_12`), assigned once per activation,
//! so closures see kont's immutable bindings. Calls are `yield call(f, …)`
//! (a `Program` the VM runs as a host frame: no Python stack growth);
//! `perform` yields an instance of one `Eff` subclass per label; the
//! continuation forms yield `Resume`, `Transfer`, `Pass`, …; handlers are
//! `WithHandler` with the handler's admitted labels as its `effect`
//! annotation; `try` is Python's `try/except KontError/finally`. The runtime
//! (`runtime.py`) holds the primitives with kont's exact error messages.
//! A program for the standard prelude calls its API: those calls become the
//! Python scheduler's (`scheduled`, `Spawn`, `Wait`…, SPEC.md §14.8), and
//! `run-await` and the cache, which have no Python API, the runtime's
//! Python handlers of the prelude's own clauses (`run_await`, `with_cache`).

use std::collections::BTreeSet;
use std::fmt;

use kont_spec::ast::*;
use kont_spec::Program;

/// Why a program is not translated. Counted by the campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Untranslatable {
    /// A prelude function used as a value, called with other arguments than
    /// its Python API takes (a list literal for `gather`/`race`), or one of
    /// the prelude's internal functions.
    PreludeShape,
    /// A `:native` handler (only the prelude's handlers have one).
    Native,
    /// A `finally` that performs, calls or resumes (its Python block yields)
    /// around a transfer or pass that another Python function holds (a
    /// function, a boundary's body…): Python closes the generators on the
    /// escape (SPEC.md §14.4) and a `yield` during `close()` is a
    /// `RuntimeError`, where kont runs the cleanup's effects. (One written in
    /// the `try`'s own function is deferred past the cleanups instead.)
    FinallyYieldsOnEscape,
    /// The same around a call or continuation form, in a program whose
    /// transfers or passes may run outside their own clause's body (in a
    /// function, or in code a continuation captured): the escape may cross it.
    FinallyYieldsOnCall,
    /// `(pass k)` without an effect where the dispatch's effect is not known
    /// lexically (in a function, in a handler's body — its own clause may
    /// resume a continuation captured there — or in code a continuation may
    /// capture, outside every clause): `Pass` needs the effect.
    PassEffectUnknown,
    /// Program inputs other than `prev`.
    Inputs,
    /// Nesting too deep for Python's parser.
    TooDeep,
    /// A program for the standard prelude where the prelude's kont effects
    /// reach Python code: an observer, interceptor or `else` clause without
    /// a label filter inside a task, or a scheduler call outside
    /// `run-scheduled` (its `unhandled` error carries the effect). The
    /// Python package passes a kont effect to Python as the text `"<kont effect>"`.
    PreludeEffectsToPython,
}

impl Untranslatable {
    pub const ALL: &'static [Untranslatable] = &[
        Untranslatable::PreludeShape,
        Untranslatable::Native,
        Untranslatable::FinallyYieldsOnEscape,
        Untranslatable::FinallyYieldsOnCall,
        Untranslatable::PassEffectUnknown,
        Untranslatable::Inputs,
        Untranslatable::TooDeep,
        Untranslatable::PreludeEffectsToPython,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Untranslatable::PreludeShape => "prelude function as a value or of another shape",
            Untranslatable::Native => "native handler",
            Untranslatable::FinallyYieldsOnEscape => "finally that yields around a transfer/pass in a nested function",
            Untranslatable::FinallyYieldsOnCall => "finally that yields around a call, with transfers/passes elsewhere",
            Untranslatable::PassEffectUnknown => "pass without effect outside a known clause",
            Untranslatable::Inputs => "program inputs",
            Untranslatable::TooDeep => "too deep for Python's parser",
            Untranslatable::PreludeEffectsToPython => "the prelude's kont effects reach Python code (unfiltered observer/else clause in a task, call outside run-scheduled)",
        }
    }
}

impl fmt::Display for Untranslatable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The Python runtime every translation runs with.
pub const RUNTIME: &str = include_str!("runtime.py");

/// Deepest program translated (Python's parser limits nesting).
const MAX_DEPTH: usize = 150;

/// Most `try`s nested in one Python function (each may open two of Python's
/// 20 statically nested blocks).
const MAX_TRIES: u32 = 9;

/// Runtime names a label class must not shadow.
const RESERVED: &[&str] = &[
    "EffectBase",
    "KontError",
    "K",
    "NewCont",
    "Pass",
    "Program",
    "Resume",
    "ResumeThrow",
    "Transfer",
    "TransferThrow",
    "WithHandler",
    "WithIntercept",
    "WithObserve",
    "KList",
    "KFn",
    "Cell",
    "KErr",
    "Eff",
    "ST",
    "Handle",
    "Spawn",
    "Wait",
    "Gather",
    "Race",
    "Cancel",
    "YieldTask",
    "CreatePromise",
    "CompletePromise",
    "FailPromise",
    "CreateSemaphore",
    "AcquireSemaphore",
    "ReleaseSemaphore",
    "Delay",
    "DelayFail",
    "Now",
    "Caught",
    "CacheGet",
    "CachePut",
    "CacheExists",
    "CacheDelete",
    "AwaitEff",
    "NowEff",
    "True",
    "False",
    "None",
];

/// A Python expression and whether it is an atom (a literal or a variable:
/// evaluating it later gives the same value and does nothing).
struct Py {
    code: String,
    atom: bool,
}

fn atom(code: impl Into<String>) -> Py {
    Py { code: code.into(), atom: true }
}

fn non_atom(code: impl Into<String>) -> Py {
    Py { code: code.into(), atom: false }
}

/// What the code being translated sits in, lexically.
#[derive(Clone, Default)]
struct Ctx {
    /// The innermost clause's effect variable, when a `(pass k)` there
    /// certainly belongs to that clause's activation.
    clause_eff: Option<String>,
    /// Code a continuation may capture or a function may run elsewhere,
    /// outside every clause: a pass there has no known effect.
    unknown_activation: bool,
}

struct Tr {
    fresh: u32,
    /// Kont names in scope and their Python names, innermost last.
    env: Vec<(String, String)>,
    labels: BTreeSet<String>,
    /// Whether the generator function being written yields (one flag per nested def).
    yields: Vec<bool>,
    /// The program has an escape form that may run outside its clause's own body.
    nondirect_escape: bool,
    /// `try` statements open around the code being written, per nested def
    /// (Python allows 20 statically nested blocks in one function).
    tries: Vec<u32>,
    /// Per nested def: deferring `try`s open around the code being written,
    /// and whether an escape was deferred (the def then catches `Escape`).
    deferring: Vec<(u32, bool)>,
    /// Some escape is deferred: every continuation use checks the runtime's consumed list.
    any_deferred: bool,
    /// Write the checked continuation forms (`c_resume`…).
    checked: bool,
    /// Per enclosing `run-scheduled` (false) / `run-await` (true) argument:
    /// where `await` and `now` go.
    awaiting: Vec<bool>,
}

type R<T> = Result<T, Untranslatable>;

/// The standard prelude's function names (what a prelude program may call).
fn prelude_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let wrapped = crate::gen::with_std(&Program::new(Expr::new(ExprKind::Lit(Lit::Unit))));
        match &wrapped.body.kind {
            ExprKind::Letrec { funs, .. } => funs.iter().map(|f| f.name.clone()).collect(),
            _ => Vec::new(),
        }
    })
}

/// The user program inside `p` when `p` is a program wrapped with the
/// standard prelude (a corpus case with `(prelude "std")`).
fn unwrap_prelude(p: &Program) -> Option<Program> {
    let ExprKind::Letrec { funs, body } = &p.body.kind else { return None };
    let names = prelude_names();
    let same = funs.len() == names.len() && funs.iter().zip(names).all(|(f, n)| &f.name == n);
    same.then(|| Program { body: (**body).clone(), ..p.clone() })
}

/// Whether `p` is a program wrapped with the standard prelude.
pub fn unwraps_prelude(p: &Program) -> bool {
    unwrap_prelude(p).is_some()
}

/// The Python translation of `p`: a module (to run after [`RUNTIME`]) that
/// defines `main`, a generator function; its input `prev` is a global. A
/// program wrapped with the standard prelude is translated as a program for
/// it ([`translate_prelude`]).
pub fn translate(p: &Program) -> R<String> {
    match unwrap_prelude(p) {
        Some(user) => translate_with(&user, true),
        None => translate_with(p, false),
    }
}

/// The Python translation of `p`, a program for the standard prelude (its
/// functions free in `p`): the prelude's API calls become the Python
/// scheduler's calls (SPEC.md §14.8).
pub fn translate_prelude(p: &Program) -> R<String> {
    translate_with(p, true)
}

/// The standard prelude's effect labels (a program for the prelude that
/// names one talks to the scheduler directly: not translated).
pub const PRELUDE_LABELS: &[&str] = &[
    "Acquire",
    "Await",
    "CacheDelete",
    "CacheExists",
    "CacheGet",
    "CachePut",
    "Cancel",
    "Gather",
    "NewPromise",
    "NewSemaphore",
    "Now",
    "Race",
    "Release",
    "Settle",
    "Spawn",
    "TaskDone",
    "Wait",
    "Yield",
];

/// A prelude function's name in the translator's scope.
const API: &str = "@api:";

fn translate_with(p: &Program, prelude: bool) -> R<String> {
    if p.inputs.iter().any(|i| i != "prev") {
        return Err(Untranslatable::Inputs);
    }
    if p.body.depth() > MAX_DEPTH {
        return Err(Untranslatable::TooDeep);
    }
    let mut native = false;
    let mut unfiltered = false;
    let mut prelude_label = false;
    let is_prelude_label = |l: &Label| PRELUDE_LABELS.contains(&l.0.as_str());
    p.body.walk(&mut |e| match &e.kind {
        ExprKind::WithHandler(h) => {
            native |= h.native.is_some();
            prelude_label |= h.clauses.iter().any(|c| c.label.as_ref().is_some_and(is_prelude_label));
            prelude_label |= h.only.iter().flatten().any(is_prelude_label);
        }
        ExprKind::WithIntercept(i) => {
            prelude_label |= i.only.iter().flatten().any(is_prelude_label);
        }
        ExprKind::Perform { label, .. } | ExprKind::MakeEffect { label, .. } => {
            prelude_label |= is_prelude_label(label)
        }
        _ => {}
    });
    if prelude {
        unfiltered = unfiltered_in_tasks(&p.body, false) || api_outside_scheduler(&p.body, false);
    }
    if native {
        return Err(Untranslatable::Native);
    }
    if prelude && prelude_label {
        return Err(Untranslatable::PreludeShape);
    }
    let mut t = Tr {
        fresh: 0,
        env: Vec::new(),
        labels: BTreeSet::new(),
        yields: Vec::new(),
        nondirect_escape: false,
        tries: Vec::new(),
        deferring: Vec::new(),
        any_deferred: false,
        checked: false,
        awaiting: Vec::new(),
    };
    if prelude {
        for n in prelude_names() {
            t.env.push((n.clone(), format!("{API}{n}")));
        }
    }
    for i in &p.inputs {
        t.env.push((i.clone(), i.clone()));
    }
    t.nondirect_escape = nondirect_escape(&p.body, false);
    let mut main = t.def("main", &[], &p.body, &Ctx::default())?;
    // Checked once the program translates otherwise (a run-await, a cache… says so first).
    if prelude && unfiltered {
        return Err(Untranslatable::PreludeEffectsToPython);
    }
    if t.any_deferred {
        // Again, with every continuation use checked against the deferred escapes' continuations.
        t.fresh = 0;
        t.labels.clear();
        t.checked = true;
        main = t.def("main", &[], &p.body, &Ctx::default())?;
    }
    let mut out = String::from("# kont program translated to Python (kont difftest)\n");
    for l in &t.labels {
        match class_name(l) {
            Some(c) => out.push_str(&format!("\n\nclass {c}(Eff):\n    pass\n")),
            None => out.push_str(&format!("\n\n{} = type({}, (Eff,), {{}})\n", label_var(l), py_str(l))),
        }
    }
    out.push_str("\n\n");
    for line in main {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// A self-contained Python file: the runtime, the translation, and a main
/// that prints what the differential tester compares.
pub fn standalone(translation: &str, before: Option<&str>) -> String {
    let mut out = String::from(RUNTIME);
    out.push_str("\n\n# ---- the program ----\n");
    out.push_str(translation);
    out.push_str("\n\nif __name__ == \"__main__\":\n    import json\n    _ns = dict(globals())\n");
    match before {
        None => out.push_str("    print(json.dumps(run_main(main)[0], indent=1))\n"),
        Some(b) => {
            out.push_str(&format!("    _first = {}\n", py_str(b)));
            out.push_str("    _fns = dict(_ns)\n    exec(_first, _fns)\n    _, prev = run_main(_fns[\"main\"])\n");
            out.push_str("    print(json.dumps(run_main(main, foreign=(prev,))[0], indent=1))\n");
        }
    }
    out
}

fn class_name(label: &str) -> Option<&str> {
    let ident = label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (ident && !RESERVED.contains(&label)).then_some(label)
}

fn label_var(label: &str) -> String {
    let s: String = label.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("L_{s}")
}

fn label_ref(label: &str) -> String {
    class_name(label).map_or_else(|| label_var(label), str::to_string)
}

/// A Python string literal.
pub fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) >= 0x7f => out.push_str(&format!("\\U{:08x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn indent(lines: Vec<String>) -> impl Iterator<Item = String> {
    lines.into_iter().map(|l| format!("    {l}"))
}

fn sanitize(x: &str) -> String {
    let s: String = x.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    s.trim_start_matches('_').to_string()
}

/// Whether `e` contains a transfer, transfer-throw or pass that may leave
/// `e`: one in a clause of a handler inside `e` stops at that clause's
/// activation, inside `e`.
fn contains_escape(e: &Expr) -> bool {
    kont_spec::deep::grow(|| match &e.kind {
        ExprKind::Resume { mode: ResumeMode::Transfer, .. } | ExprKind::Pass { .. } => true,
        ExprKind::WithHandler(h) => contains_escape(&h.body),
        _ => e.children().into_iter().any(contains_escape),
    })
}

/// Whether a `try`'s body or catch has an escape that a nested Python def
/// holds (a function, a boundary's body, new-cont's or an interceptor's
/// function): the `try` cannot defer it.
fn escape_in_nested_def(t: &TryExpr) -> bool {
    fn nested(e: &Expr, inside: bool) -> bool {
        kont_spec::deep::grow(|| match &e.kind {
            ExprKind::Resume { mode: ResumeMode::Transfer, k, arg, .. } => {
                inside || nested(k, inside) || nested(arg, inside)
            }
            ExprKind::Pass { k, effect } => {
                inside || nested(k, inside) || effect.as_deref().is_some_and(|x| nested(x, inside))
            }
            // Clauses stop their own escapes.
            ExprKind::WithHandler(h) => nested(&h.body, true),
            ExprKind::WithIntercept(i) => nested(&i.func, true) || nested(&i.body, true),
            ExprKind::Fn(l) => nested(&l.body, true),
            ExprKind::Letrec { funs, body } => {
                funs.iter().any(|f| nested(&f.lambda.body, true)) || nested(body, inside)
            }
            ExprKind::NewCont { func, envelope } => {
                nested(func, true) || envelope.as_deref().is_some_and(|x| nested(x, inside))
            }
            _ => e.children().into_iter().any(|c| nested(c, inside)),
        })
    }
    nested(&t.body, false) || t.catch.as_ref().is_some_and(|(_, h)| nested(h, false))
}

/// Whether evaluating `e` may yield (perform, call, use a continuation, install a boundary).
fn may_yield(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        found |= matches!(
            x.kind,
            ExprKind::Perform { .. }
                | ExprKind::PerformValue(_)
                | ExprKind::Call { .. }
                | ExprKind::Resume { .. }
                | ExprKind::Pass { .. }
                | ExprKind::WithHandler(_)
                | ExprKind::WithIntercept(_)
                | ExprKind::NewCont { .. }
        )
    });
    found
}

/// `lines` (a def's body after its header when `skip` is 1) inside
/// `try: … except Escape: yield _esc`: a deferred escape leaves from here.
fn wrap_escape(lines: &mut Vec<String>, skip: usize) {
    let body: Vec<String> = lines.drain(skip..).collect();
    let strip = if skip == 1 { 4 } else { 0 };
    let pad = " ".repeat(strip);
    lines.push(format!("{pad}try:"));
    lines.extend(body.into_iter().map(|l| format!("    {l}")));
    lines.push(format!("{pad}except Escape:"));
    lines.push(format!("{pad}    yield _esc"));
}

/// Whether a handler with an `else` clause or an interceptor/observer, with
/// no label filter, may run inside a task (in a prelude call's argument, or
/// in a function, which may be called there): the prelude's effects reach it.
/// Outside the scheduler only the effects no task handles arrive.
fn unfiltered_in_tasks(e: &Expr, inside: bool) -> bool {
    kont_spec::deep::grow(|| match &e.kind {
        ExprKind::WithHandler(h)
            if inside
                && h.only.is_none()
                && h.clauses.iter().any(|c| c.label.is_none() && looks_at(&c.param, &c.body)) =>
        {
            true
        }
        // An observer that never looks at the effect it is given is fine.
        ExprKind::WithIntercept(i)
            if inside
                && i.only.is_none()
                && !(i.kind == InterceptKind::Observe
                    && matches!(&i.func.kind, ExprKind::Fn(l) if l.params.len() == 1 && !looks_at(&l.params[0], &l.body))) =>
        {
            true
        }
        ExprKind::Fn(l) => unfiltered_in_tasks(&l.body, true),
        ExprKind::Letrec { funs, body } => {
            funs.iter().any(|f| unfiltered_in_tasks(&f.lambda.body, true)) || unfiltered_in_tasks(body, inside)
        }
        ExprKind::Call { func, args } => {
            let name = match &func.kind {
                ExprKind::Var(x) if prelude_names().contains(x) => x.as_str(),
                _ => "",
            };
            let tasks = matches!(name, "run-scheduled" | "spawn" | "spawn-at");
            args.iter().any(|a| match &a.kind {
                // `with-cache`'s body runs where the call is, outside the scheduler.
                ExprKind::Fn(l) if name == "with-cache" => unfiltered_in_tasks(&l.body, inside),
                _ => unfiltered_in_tasks(a, inside || tasks),
            }) || unfiltered_in_tasks(func, inside)
        }
        _ => e.children().into_iter().any(|c| unfiltered_in_tasks(c, inside)),
    })
}

/// Whether code `body` may look at the effect bound to `x`: it names `x`, or
/// passes (a `pass` hands the clause's effect on).
fn looks_at(x: &str, body: &Expr) -> bool {
    let mut found = false;
    body.walk(&mut |e| {
        found |= matches!(&e.kind, ExprKind::Var(y) if y == x) || matches!(e.kind, ExprKind::Pass { .. })
    });
    found
}

/// Whether a scheduler call (`spawn`, `wait`, `await`…) is written outside
/// every `run-scheduled` argument: its kont effect may go unhandled, and
/// the `unhandled` error's payload reaches Python as text.
fn api_outside_scheduler(e: &Expr, inside: bool) -> bool {
    kont_spec::deep::grow(|| match &e.kind {
        ExprKind::Call { func, args } => match &func.kind {
            ExprKind::Var(x) if x == "run-scheduled" || x == "run-await" => {
                args.iter().any(|a| api_outside_scheduler(a, true))
            }
            ExprKind::Var(x) if x.starts_with("cache-") || x == "with-cache" => {
                args.iter().any(|a| api_outside_scheduler(a, inside))
            }
            ExprKind::Var(x) if !inside && prelude_names().contains(x) => true,
            _ => e.children().into_iter().any(|c| api_outside_scheduler(c, inside)),
        },
        _ => e.children().into_iter().any(|c| api_outside_scheduler(c, inside)),
    })
}

/// Whether a transfer or pass of `p` may run outside its own clause's body.
pub fn nondirect_escapes(p: &Program) -> bool {
    nondirect_escape(&p.body, false)
}

/// Whether `e` contains something that runs code from elsewhere (a call, a
/// continuation form, a new continuation).
fn contains_call(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        found |= matches!(x.kind, ExprKind::Call { .. } | ExprKind::Resume { .. } | ExprKind::NewCont { .. })
    });
    found
}

/// Whether an escape form may run outside the body of its own clause (so it
/// can reach a `try` that does not contain it lexically): `direct` is true in
/// a clause body, false in functions, boundary bodies and top-level code.
fn nondirect_escape(e: &Expr, direct: bool) -> bool {
    kont_spec::deep::grow(|| match &e.kind {
        ExprKind::Resume { mode: ResumeMode::Transfer, k, arg, .. } => {
            !direct || nondirect_escape(k, direct) || nondirect_escape(arg, direct)
        }
        ExprKind::Pass { k, effect } => {
            !direct || nondirect_escape(k, direct) || effect.as_deref().is_some_and(|x| nondirect_escape(x, direct))
        }
        ExprKind::Fn(l) => nondirect_escape(&l.body, false),
        ExprKind::Call { func, args } => {
            let f = match &func.kind {
                // Applied at once: its body runs here.
                ExprKind::Fn(l) => nondirect_escape(&l.body, direct),
                _ => nondirect_escape(func, direct),
            };
            f || args.iter().any(|a| nondirect_escape(a, direct))
        }
        ExprKind::Letrec { funs, body } => {
            funs.iter().any(|f| nondirect_escape(&f.lambda.body, false)) || nondirect_escape(body, direct)
        }
        ExprKind::WithHandler(h) => {
            h.clauses.iter().any(|c| nondirect_escape(&c.body, true)) || nondirect_escape(&h.body, false)
        }
        ExprKind::WithIntercept(i) => nondirect_escape(&i.func, false) || nondirect_escape(&i.body, false),
        ExprKind::NewCont { func, envelope } => {
            nondirect_escape(func, false) || envelope.as_deref().is_some_and(|x| nondirect_escape(x, direct))
        }
        _ => e.children().into_iter().any(|c| nondirect_escape(c, direct)),
    })
}

impl Tr {
    fn name(&mut self, stem: &str) -> String {
        self.fresh += 1;
        let s = sanitize(stem);
        if s.is_empty() {
            format!("v_{}", self.fresh)
        } else {
            format!("{s}_{}", self.fresh)
        }
    }

    fn lookup(&self, x: &str) -> String {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == x)
            .map(|(_, p)| p.clone())
            .expect("checked programs bind every variable")
    }

    fn yielded(&mut self) {
        if let Some(y) = self.yields.last_mut() {
            *y = true;
        }
    }

    /// `def name(params): body; return value` as a generator function.
    fn def(&mut self, name: &str, params: &[String], body: &Expr, ctx: &Ctx) -> R<Vec<String>> {
        self.def_with(&format!("def {name}({}):", params.join(", ")), body, ctx, false)
    }

    /// `e` in tail position of a function body: its value returned, a call
    /// returned as a `TailCall` to the trampoline (SPEC.md §5.1: constant space).
    fn tail(&mut self, e: &Expr, b: &mut Vec<String>, ctx: &Ctx) -> R<()> {
        kont_spec::deep::grow(|| match &e.kind {
            ExprKind::Let { name, value, body } => {
                let v = self.expr(value, b, ctx)?;
                let py = self.name(name);
                b.push(format!("{py} = {}", v.code));
                self.env.push((name.clone(), py));
                let r = self.tail(body, b, ctx);
                self.env.pop();
                r
            }
            ExprKind::Do(es) => {
                let (last, init) = es.split_last().expect("`do` is never empty");
                for x in init {
                    let v = self.expr(x, b, ctx)?;
                    if !v.atom {
                        b.push(v.code);
                    }
                }
                self.tail(last, b, ctx)
            }
            ExprKind::If { cond, then, els } => {
                let c = self.expr(cond, b, ctx)?;
                let (mut bt, mut be) = (Vec::new(), Vec::new());
                self.tail(then, &mut bt, ctx)?;
                self.tail(els, &mut be, ctx)?;
                b.push(format!("if truth({}):", c.code));
                b.extend(indent(bt));
                b.push("else:".to_string());
                b.extend(indent(be));
                Ok(())
            }
            ExprKind::Call { func, args } if self.api_name(func).is_none() => {
                let ops: Vec<&Expr> = std::iter::once(&**func).chain(args.iter()).collect();
                let vs = self.operands(&ops, b, ctx)?;
                b.push(format!("return tail_call({})", vs.join(", ")));
                Ok(())
            }
            _ => {
                let v = self.expr(e, b, ctx)?;
                b.push(format!("return {}", v.code));
                Ok(())
            }
        })
    }

    fn def_with(&mut self, header: &str, body: &Expr, ctx: &Ctx, tail: bool) -> R<Vec<String>> {
        self.tries.push(0);
        self.deferring.push((0, false));
        let r = self.def_body(header, body, ctx, tail);
        self.tries.pop();
        let (_, deferred) = self.deferring.pop().unwrap_or_default();
        let mut lines = r?;
        if deferred {
            wrap_escape(&mut lines, 1);
        }
        Ok(lines)
    }

    fn def_body(&mut self, header: &str, body: &Expr, ctx: &Ctx, tail: bool) -> R<Vec<String>> {
        self.yields.push(false);
        let mut b = Vec::new();
        let v = if tail {
            self.tail(body, &mut b, ctx)
        } else {
            self.expr(body, &mut b, ctx).map(|v| b.push(format!("return {}", v.code)))
        };
        let yields = self.yields.pop().unwrap_or(false);
        v?;
        let mut out = vec![header.to_string()];
        if !yields {
            out.push("    if False:".to_string());
            out.push("        yield  # a generator function".to_string());
        }
        out.extend(indent(b));
        Ok(out)
    }

    /// Evaluate `es` left to right into expressions that can be used in one
    /// Python expression after all of them: an operand followed by one that
    /// needed statements is spilled into a temporary before those statements.
    fn operands(&mut self, es: &[&Expr], b: &mut Vec<String>, ctx: &Ctx) -> R<Vec<String>> {
        let mut vals: Vec<Py> = Vec::new();
        for e in es {
            let mark = b.len();
            let v = self.expr(e, b, ctx)?;
            if b.len() > mark {
                let mut spills = Vec::new();
                for p in vals.iter_mut().filter(|p| !p.atom) {
                    let t = self.name("t");
                    spills.push(format!("{t} = {}", p.code));
                    *p = atom(t);
                }
                b.splice(mark..mark, spills);
            }
            vals.push(v);
        }
        Ok(vals.into_iter().map(|p| p.code).collect())
    }

    /// Translate `e` into statements appended to `b` and the expression of its value.
    fn expr(&mut self, e: &Expr, b: &mut Vec<String>, ctx: &Ctx) -> R<Py> {
        kont_spec::deep::grow(|| self.expr_inner(e, b, ctx))
    }

    fn expr_inner(&mut self, e: &Expr, b: &mut Vec<String>, ctx: &Ctx) -> R<Py> {
        Ok(match &e.kind {
            ExprKind::Lit(l) => atom(match l {
                Lit::Unit => "None".to_string(),
                Lit::Bool(true) => "True".to_string(),
                Lit::Bool(false) => "False".to_string(),
                Lit::Int(i) if *i < 0 => format!("({i})"),
                Lit::Int(i) => i.to_string(),
                Lit::Str(s) => py_str(s),
            }),
            ExprKind::Var(x) => {
                let py = self.lookup(x);
                if py.starts_with(API) {
                    return Err(Untranslatable::PreludeShape);
                }
                atom(py)
            }
            ExprKind::Let { name, value, body } => {
                let v = self.expr(value, b, ctx)?;
                let py = self.name(name);
                b.push(format!("{py} = {}", v.code));
                self.env.push((name.clone(), py));
                let r = self.expr(body, b, ctx);
                self.env.pop();
                r?
            }
            ExprKind::Do(es) => {
                let (last, init) = es.split_last().expect("`do` is never empty");
                for x in init {
                    let v = self.expr(x, b, ctx)?;
                    if !v.atom {
                        b.push(v.code);
                    }
                }
                self.expr(last, b, ctx)?
            }
            ExprKind::If { cond, then, els } => {
                let c = self.expr(cond, b, ctx)?;
                let (mut bt, mut be) = (Vec::new(), Vec::new());
                let t = self.expr(then, &mut bt, ctx)?;
                let f = self.expr(els, &mut be, ctx)?;
                if bt.is_empty() && be.is_empty() {
                    non_atom(format!("({} if truth({}) else {})", t.code, c.code, f.code))
                } else {
                    let tmp = self.name("t");
                    b.push(format!("if truth({}):", c.code));
                    bt.push(format!("{tmp} = {}", t.code));
                    b.extend(indent(bt));
                    b.push("else:".to_string());
                    be.push(format!("{tmp} = {}", f.code));
                    b.extend(indent(be));
                    atom(tmp)
                }
            }
            ExprKind::Fn(l) => {
                let f = self.function(&l.params, &l.body, None, b, ctx)?;
                non_atom(f)
            }
            ExprKind::Letrec { funs, body } => {
                let names: Vec<String> = funs.iter().map(|f| self.name(&f.name)).collect();
                for (f, py) in funs.iter().zip(&names) {
                    self.env.push((f.name.clone(), py.clone()));
                }
                let mut r = Ok(());
                for (f, py) in funs.iter().zip(&names) {
                    match self.function(&f.lambda.params, &f.lambda.body, Some(&f.name), b, ctx) {
                        Ok(v) => b.push(format!("{py} = {v}")),
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                let v = r.and_then(|_| self.expr(body, b, ctx));
                for _ in funs.iter() {
                    self.env.pop();
                }
                v?
            }
            ExprKind::Call { func, args } => {
                if let Some(api) = self.api_name(func) {
                    return self.api_call(&api, args, b, ctx);
                }
                let ops: Vec<&Expr> = std::iter::once(&**func).chain(args.iter()).collect();
                let vs = self.operands(&ops, b, ctx)?;
                self.yielded();
                non_atom(format!("(yield call({}))", vs.join(", ")))
            }
            ExprKind::Prim { op, args } => {
                let ops: Vec<&Expr> = args.iter().collect();
                let vs = self.operands(&ops, b, ctx)?;
                non_atom(format!("{}({})", prim_fn(*op), vs.join(", ")))
            }
            ExprKind::Emit(x) => {
                let v = self.expr(x, b, ctx)?;
                non_atom(format!("emit({})", v.code))
            }
            ExprKind::Mark { tag, arg } => {
                let v = self.expr(arg, b, ctx)?;
                non_atom(format!("mark({}, {})", py_str(tag), v.code))
            }
            ExprKind::MakeEffect { label, arg } => {
                let v = self.expr(arg, b, ctx)?;
                non_atom(format!("{}({})", self.label(label), v.code))
            }
            ExprKind::Perform { label, arg } => {
                let v = self.expr(arg, b, ctx)?;
                self.yielded();
                non_atom(format!("(yield {}({}))", self.label(label), v.code))
            }
            ExprKind::PerformValue(x) => {
                let v = self.expr(x, b, ctx)?;
                self.yielded();
                non_atom(format!("(yield perform_value({}))", v.code))
            }
            ExprKind::WithHandler(h) => self.with_handler(h, b, ctx)?,
            ExprKind::WithIntercept(i) => {
                let f = self.expr(&i.func, b, ctx)?;
                let f = if f.atom {
                    f.code
                } else {
                    let t = self.name("f");
                    b.push(format!("{t} = {}", f.code));
                    t
                };
                let body_name = self.name("body");
                let inner = Ctx { unknown_activation: ctx.clause_eff.is_none(), ..ctx.clone() };
                let def = self.def(&body_name, &[], &i.body, &inner)?;
                b.extend(def);
                let types = match &i.only {
                    None => String::new(),
                    Some(ls) if ls.is_empty() => ", types=(_Never,)".to_string(),
                    Some(ls) => {
                        let cs: Vec<String> = ls.iter().map(|l| self.label(l)).collect();
                        format!(", types=({},)", cs.join(", "))
                    }
                };
                let node = match i.kind {
                    InterceptKind::Intercept => "WithIntercept",
                    InterceptKind::Observe => "WithObserve",
                };
                self.yielded();
                non_atom(format!("(yield {node}(icall({f}), Program({body_name}, ()){types}))"))
            }
            ExprKind::Resume { mode, throw, k, arg } => {
                let vs = self.operands(&[k, arg], b, ctx)?;
                let (node, checked, form) = match (mode, throw) {
                    (ResumeMode::Resume, false) => ("Resume", "c_resume", "resume"),
                    (ResumeMode::Resume, true) => ("ResumeThrow", "c_resume_throw", "resume-throw"),
                    (ResumeMode::Transfer, false) => ("Transfer", "c_transfer", "transfer"),
                    (ResumeMode::Transfer, true) => ("TransferThrow", "c_transfer_throw", "transfer-throw"),
                };
                self.yielded();
                if *mode == ResumeMode::Transfer && self.defer_here() {
                    b.push(format!("_esc = escape({node}({}, {}), {})", vs[0], vs[1], py_str(form)));
                    b.push("raise Escape()".to_string());
                    return Ok(atom("None"));
                }
                let node = if self.checked { checked } else { node };
                non_atom(format!("(yield {node}({}, {}))", vs[0], vs[1]))
            }
            ExprKind::Pass { k, effect } => {
                let ops: Vec<&Expr> = std::iter::once(&**k).chain(effect.as_deref()).collect();
                let vs = self.operands(&ops, b, ctx)?;
                let eff = match (vs.get(1), &ctx.clause_eff) {
                    (Some(e), _) => e.clone(),
                    (None, Some(e)) => e.clone(),
                    // Top-level code no continuation captures: the escape reaches the top (K-Outside).
                    (None, None) if !ctx.unknown_activation => "_Never(None)".to_string(),
                    (None, None) => return Err(Untranslatable::PassEffectUnknown),
                };
                self.yielded();
                if self.defer_here() {
                    b.push(format!("_esc = escape(Pass({eff}, {}), \"pass\")", vs[0]));
                    b.push("raise Escape()".to_string());
                    return Ok(atom("None"));
                }
                let node = if self.checked { "c_pass" } else { "Pass" };
                non_atom(format!("(yield {node}({eff}, {}))", vs[0]))
            }
            ExprKind::Raise(x) => {
                let v = self.expr(x, b, ctx)?;
                non_atom(format!("kraise({})", v.code))
            }
            ExprKind::Try(t) => self.try_(t, b, ctx)?,
            ExprKind::NewCont { func, envelope } => {
                let ops: Vec<&Expr> = std::iter::once(&**func).chain(envelope.as_deref()).collect();
                let vs = self.operands(&ops, b, ctx)?;
                self.yielded();
                non_atom(format!("(yield new_cont({}))", vs.join(", ")))
            }
        })
    }

    /// Whether `await`/`now` here go to `run-await`'s handler (the innermost
    /// enclosing `run-await`/`run-scheduled` argument is `run-await`'s).
    fn under_run_await(&self) -> bool {
        self.awaiting.last() == Some(&true)
    }

    /// The prelude function `func` names, when it is one (not shadowed).
    fn api_name(&self, func: &Expr) -> Option<String> {
        match &func.kind {
            ExprKind::Var(x) => self.lookup(x).strip_prefix(API).map(str::to_string),
            _ => None,
        }
    }

    /// A call of prelude function `api`: the Python scheduler's call (SPEC.md §14.8).
    fn api_call(&mut self, api: &str, args: &[Expr], b: &mut Vec<String>, ctx: &Ctx) -> R<Py> {
        // `gather` and `race` take a list literal: its elements become the call's handles.
        fn handles(args: &[Expr]) -> R<Vec<&Expr>> {
            match args {
                [Expr { kind: ExprKind::Prim { op: Prim::List, args: hs }, .. }] => Ok(hs.iter().collect()),
                _ => Err(Untranslatable::PreludeShape),
            }
        }
        let (node, ops): (&str, Vec<&Expr>) = match (api, args.len()) {
            ("run-scheduled", 1) => ("scheduled(task({}))", args.iter().collect()),
            ("spawn", 1) => ("Spawn(task({}))", args.iter().collect()),
            ("spawn-at", 2) => ("Spawn(task({}), priority=arg({}))", args.iter().collect()),
            ("wait", 1) => ("Wait(arg({}))", args.iter().collect()),
            ("gather", 1) => ("Gather(*)", handles(args)?),
            ("race", 1) => ("Race(*)", handles(args)?),
            ("cancel", 1) => ("Cancel(arg({}))", args.iter().collect()),
            ("yield", 0) => ("YieldTask()", Vec::new()),
            ("new-promise", 0) => ("CreatePromise()", Vec::new()),
            ("complete", 2) => ("CompletePromise(arg({}), arg({}))", args.iter().collect()),
            ("fail", 2) => ("FailPromise(arg({}), arg({}))", args.iter().collect()),
            ("new-semaphore", 1) => ("CreateSemaphore(arg({}))", args.iter().collect()),
            ("acquire", 1) => ("AcquireSemaphore(arg({}))", args.iter().collect()),
            ("release", 1) => ("ReleaseSemaphore(arg({}))", args.iter().collect()),
            ("await", 2) if self.under_run_await() => {
                ("unwrap((yield AwaitEff(KList(({}, True, {})))))", args.iter().collect())
            }
            ("await-fail", 2) if self.under_run_await() => {
                ("unwrap((yield AwaitEff(KList(({}, False, {})))))", args.iter().collect())
            }
            ("now", 0) if self.under_run_await() => ("unwrap((yield NowEff(None)))", Vec::new()),
            ("await", 2) => ("Delay(arg({}), arg({}))", args.iter().collect()),
            ("await-fail", 2) => ("DelayFail(arg({}), arg({}))", args.iter().collect()),
            ("now", 0) => ("Now()", Vec::new()),
            ("run-await", 1) => ("run_await({})", args.iter().collect()),
            // The prelude's cache, as the runtime's Python handler of the same clauses.
            ("with-cache", 1) => ("with_cache({})", args.iter().collect()),
            ("cache-get", 1) => ("unwrap((yield CacheGet({})))", args.iter().collect()),
            ("cache-exists", 1) => ("unwrap((yield CacheExists({})))", args.iter().collect()),
            ("cache-delete", 1) => ("unwrap((yield CacheDelete({})))", args.iter().collect()),
            ("cache-put", 2) => ("unwrap((yield CachePut(KList(({}, {})))))", args.iter().collect()),
            (c, _) if c.starts_with("cache-") || c == "with-cache" => return Err(Untranslatable::PreludeShape),
            _ => return Err(Untranslatable::PreludeShape),
        };
        let mode = match api {
            "run-scheduled" => Some(false),
            "run-await" => Some(true),
            _ => None,
        };
        if let Some(m) = mode {
            self.awaiting.push(m);
        }
        let vs = self.operands(&ops, b, ctx);
        if mode.is_some() {
            self.awaiting.pop();
        }
        let vs = vs?;
        let mut code = String::new();
        let mut vals = vs.iter();
        let mut rest = node;
        while let Some(i) = rest.find("{}") {
            code.push_str(&rest[..i]);
            code.push_str(vals.next().expect("one operand per hole"));
            rest = &rest[i + 2..];
        }
        code.push_str(rest);
        let hs: Vec<String> = vs.iter().map(|v| format!("arg({v})")).collect();
        let code = code.replace("(*)", &format!("({})", hs.join(", ")));
        self.yielded();
        if code.starts_with("unwrap(") {
            return Ok(non_atom(code));
        }
        Ok(non_atom(format!("api((yield {code}))")))
    }

    fn label(&mut self, l: &Label) -> String {
        self.labels.insert(l.0.clone());
        label_ref(&l.0)
    }

    /// A kont function: a generator `def` appended to `b`; the `KFn` expression.
    fn function(
        &mut self,
        params: &[String],
        body: &Expr,
        name: Option<&str>,
        b: &mut Vec<String>,
        ctx: &Ctx,
    ) -> R<String> {
        let def_name = self.name(&format!("fn_{}", name.unwrap_or("")));
        let pys: Vec<String> = params.iter().map(|p| self.name(p)).collect();
        for (p, py) in params.iter().zip(&pys) {
            self.env.push((p.clone(), py.clone()));
        }
        // A function may run anywhere: a pass in it only knows its clause's effect if inside one.
        let inner = Ctx { clause_eff: None, unknown_activation: true };
        let _ = ctx;
        let def = self.def_with(&format!("def {def_name}({}):", pys.join(", ")), body, &inner, true);
        for _ in params {
            self.env.pop();
        }
        b.extend(def?);
        Ok(match name {
            Some(n) => format!("KFn({def_name}, {}, {})", params.len(), py_str(n)),
            None => format!("KFn({def_name}, {})", params.len()),
        })
    }

    fn with_handler(&mut self, h: &HandlerExpr, b: &mut Vec<String>, ctx: &Ctx) -> R<Py> {
        let hname = self.name("h");
        let eff = self.name("eff");
        let k = self.name("k");
        // The labels the handler takes part in (D-Skip otherwise).
        let has_else = h.clauses.iter().any(|c| c.label.is_none());
        let annotation = if has_else {
            h.only.as_ref().map(|only| only.iter().map(|l| l.0.clone()).collect::<Vec<_>>())
        } else {
            let mut ls: Vec<String> = Vec::new();
            for c in &h.clauses {
                let l = c.label.as_ref().expect("no else clause");
                if h.only.as_ref().is_none_or(|o| o.contains(l)) && !ls.contains(&l.0) {
                    ls.push(l.0.clone());
                }
            }
            Some(ls)
        };
        let ann = match annotation {
            None => String::new(),
            Some(ls) if ls.is_empty() => ": _Never".to_string(),
            Some(ls) => {
                let cs: Vec<String> = ls.iter().map(|l| self.label(&Label(l.clone()))).collect();
                format!(": {}", cs.join(" | "))
            }
        };
        let clause_ctx = Ctx { clause_eff: Some(eff.clone()), unknown_activation: false };
        let mut lines = vec![format!("def {hname}({eff}{ann}, {k}):")];
        let mut any_yield = false;
        for c in &h.clauses {
            let x = self.name(&c.param);
            let kk = self.name(&c.k);
            let payload = match &c.label {
                Some(_) => format!("{eff}.v"),
                None => eff.clone(),
            };
            let mut body = vec![format!("{x} = {payload}"), format!("{kk} = {k}")];
            self.env.push((c.param.clone(), x));
            self.env.push((c.k.clone(), kk));
            self.yields.push(false);
            self.tries.push(0);
            self.deferring.push((0, false));
            let v = self.expr(&c.body, &mut body, &clause_ctx);
            self.tries.pop();
            let (_, deferred) = self.deferring.pop().unwrap_or_default();
            any_yield |= self.yields.pop().unwrap_or(false);
            self.env.pop();
            self.env.pop();
            body.push(format!("return {}", v?.code));
            if deferred {
                wrap_escape(&mut body, 0);
            }
            match &c.label {
                Some(l) => {
                    let cls = self.label(l);
                    lines.push(format!("    if type({eff}) is {cls}:"));
                    lines.extend(indent(body).map(|l| format!("    {l}")));
                }
                None => lines.extend(indent(body)),
            }
        }
        if !any_yield {
            lines.insert(1, "    if False:".to_string());
            lines.insert(2, "        yield  # a generator function".to_string());
        }
        lines.push(format!("{hname}.__qualname__ = {}", py_str(&h.display_name())));
        b.extend(lines);
        let body_name = self.name("body");
        // A continuation captured in the body may be resumed by this
        // handler's own clause, whose activation is then the nearest one
        // for a pass there: the enclosing clause's effect is not known.
        let _ = ctx;
        let inner = Ctx { clause_eff: None, unknown_activation: true };
        let def = self.def(&body_name, &[], &h.body, &inner)?;
        b.extend(def);
        self.yielded();
        Ok(non_atom(format!("(yield WithHandler({hname}, Program({body_name}, ())))")))
    }

    fn try_(&mut self, t: &TryExpr, b: &mut Vec<String>, ctx: &Ctx) -> R<Py> {
        if t.catch.is_none() && t.finally.is_none() {
            return self.expr(&t.body, b, ctx);
        }
        if let Some(n) = self.tries.last_mut() {
            *n += 1;
            if *n > MAX_TRIES {
                return Err(Untranslatable::TooDeep);
            }
        }
        // A finally that may yield, around escapes written in this same def:
        // they are deferred until the cleanups ran (`Escape`).
        let escapes = contains_escape(&t.body) || t.catch.as_ref().is_some_and(|(_, h)| contains_escape(h));
        let defer = escapes && t.finally.as_ref().is_some_and(may_yield) && !escape_in_nested_def(t);
        if defer {
            if let Some(d) = self.deferring.last_mut() {
                d.0 += 1;
            }
        }
        let r = self.try_inner(t, b, ctx);
        if defer {
            if let Some(d) = self.deferring.last_mut() {
                d.0 -= 1;
            }
        }
        if let Some(n) = self.tries.last_mut() {
            *n -= 1;
        }
        r
    }

    /// Whether an escape written here is deferred (a deferring `try` encloses it in this def).
    fn defer_here(&mut self) -> bool {
        match self.deferring.last_mut() {
            Some(d) if d.0 > 0 => {
                d.1 = true;
                self.any_deferred = true;
                true
            }
            _ => false,
        }
    }

    fn try_inner(&mut self, t: &TryExpr, b: &mut Vec<String>, ctx: &Ctx) -> R<Py> {
        let tmp = self.name("t");
        let mut body = Vec::new();
        let v = self.expr(&t.body, &mut body, ctx)?;
        body.push(format!("{tmp} = {}", v.code));
        b.push("try:".to_string());
        b.extend(indent(body));
        if let Some((x, h)) = &t.catch {
            let py = self.name(x);
            let mut hb = vec![format!("{py} = kerr(_e)")];
            self.env.push((x.clone(), py));
            let v = self.expr(h, &mut hb, ctx);
            self.env.pop();
            hb.push(format!("{tmp} = {}", v?.code));
            b.push("except Caught as _e:".to_string());
            b.extend(indent(hb));
        }
        if let Some(f) = &t.finally {
            self.yields.push(false);
            let mut fb = Vec::new();
            let v = self.expr(f, &mut fb, ctx);
            let yields = self.yields.pop().unwrap_or(false);
            let v = v?;
            if yields {
                self.yielded();
                let escapes = contains_escape(&t.body) || t.catch.as_ref().is_some_and(|(_, h)| contains_escape(h));
                if escapes && escape_in_nested_def(t) {
                    return Err(Untranslatable::FinallyYieldsOnEscape);
                }
                if self.nondirect_escape && contains_call(&t.body) {
                    return Err(Untranslatable::FinallyYieldsOnCall);
                }
            }
            if !v.atom {
                fb.push(v.code);
            }
            if fb.is_empty() {
                fb.push("pass".to_string());
            }
            b.push("finally:".to_string());
            b.extend(indent(fb));
        }
        Ok(atom(tmp))
    }
}

fn prim_fn(op: Prim) -> &'static str {
    match op {
        Prim::Add => "p_add",
        Prim::Sub => "p_sub",
        Prim::Mul => "p_mul",
        Prim::Div => "p_div",
        Prim::Mod => "p_mod",
        Prim::Eq => "p_eq",
        Prim::Ne => "p_ne",
        Prim::Lt => "p_lt",
        Prim::Le => "p_le",
        Prim::Gt => "p_gt",
        Prim::Ge => "p_ge",
        Prim::Not => "p_not",
        Prim::And => "p_and",
        Prim::Or => "p_or",
        Prim::Concat => "p_concat",
        Prim::StrLen => "p_strlen",
        Prim::Show => "p_show",
        Prim::List => "p_list",
        Prim::Cons => "p_cons",
        Prim::Head => "p_head",
        Prim::Tail => "p_tail",
        Prim::IsEmpty => "p_is_empty",
        Prim::Len => "p_len",
        Prim::Nth => "p_nth",
        Prim::SetNth => "p_set_nth",
        Prim::Slice => "p_slice",
        Prim::Append => "p_append",
        Prim::NewCell => "p_new_cell",
        Prim::Get => "p_get",
        Prim::Set => "p_set",
        Prim::MakeError => "p_error",
        Prim::ErrorTag => "p_error_tag",
        Prim::ErrorPayload => "p_error_payload",
        Prim::EffectLabel => "p_effect_label",
        Prim::EffectPayload => "p_effect_payload",
        Prim::TypeOf => "p_type_of",
        Prim::Arity => "p_arity",
        Prim::IsLive => "p_is_live",
    }
}
