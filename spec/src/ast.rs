//! Abstract syntax of kont programs (SPEC.md §2).
//!
//! Every expression node carries a [`NodeId`]: its index in a pre-order walk of
//! the program. Ids are a pure function of the tree's shape, so both engines,
//! the parser and the JSON loader agree on them; errors and trace events name
//! source sites by id, and a [`crate::syntax::SourceMap`] turns ids back into
//! line:column when the program came from text.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::deep::grow;

/// Pre-order index of an expression node within its program.
pub type NodeId = u32;

/// An effect label. Labels start with an upper-case ASCII letter (`Ping`, `Get`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Label(pub String);

impl Label {
    pub fn new(s: impl Into<String>) -> Label {
        Label(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether `s` is a well-formed label.
    pub fn is_valid(s: &str) -> bool {
        let mut cs = s.chars();
        matches!(cs.next(), Some(c) if c.is_ascii_uppercase())
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A whole program: one expression, plus the names of host-provided inputs
/// (bound before the program starts; see `Engine::run`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    pub body: Expr,
}

impl Program {
    /// A program with ids assigned.
    pub fn new(body: Expr) -> Program {
        let mut p = Program { inputs: Vec::new(), body };
        p.renumber();
        p
    }

    /// Reassign node ids in pre-order (after building or editing a tree by hand).
    pub fn renumber(&mut self) {
        let mut next = 0;
        self.body.renumber_from(&mut next);
    }

    /// Number of expression nodes.
    pub fn size(&self) -> usize {
        let mut n = 0;
        self.body.walk(&mut |_| n += 1);
        n
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("programs always serialize")
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("programs always serialize")
    }

    /// Parse a program from JSON; ids are recomputed, so JSON need not carry them.
    /// Deeply nested documents are fine: the deserializer grows the stack.
    pub fn from_json(text: &str) -> Result<Program, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        de.disable_recursion_limit();
        let de = serde_stacker::Deserializer::new(&mut de);
        let mut p = Program::deserialize(de)?;
        p.renumber();
        Ok(p)
    }
}

/// An expression node.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub id: NodeId,
    pub kind: ExprKind,
}

/// Literal constants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Lit {
    Unit,
    Bool(bool),
    Int(i64),
    Str(String),
}

/// `(fn (x y) body)`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lambda {
    pub params: Vec<String>,
    pub body: Box<Expr>,
}

/// One function of a `letrec` group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunDef {
    pub name: String,
    pub lambda: Lambda,
}

/// A handler clause `(Label (x k) body)`; `label == None` is the catch-all
/// `(else (eff k) body)`, which binds the whole effect value instead of the payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clause {
    pub label: Option<Label>,
    pub param: String,
    pub k: String,
    pub body: Expr,
}

/// `(with-handler [:name "n"] [:only (L ...)] [:native "n"] (clause ...) body)`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandlerExpr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<Vec<Label>>,
    /// `:native "name"`: an engine may run this handler with a built-in
    /// implementation of identical observable behaviour (SPEC.md §13.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<String>,
    pub clauses: Vec<Clause>,
    pub body: Expr,
}

impl HandlerExpr {
    /// The clause for `label`, else the catch-all clause.
    pub fn clause_for(&self, label: &Label) -> Option<&Clause> {
        self.clauses
            .iter()
            .find(|c| c.label.as_ref() == Some(label))
            .or_else(|| self.clauses.iter().find(|c| c.label.is_none()))
    }

    /// Rule D-Accept: the filter admits the label and some clause matches it.
    pub fn accepts(&self, label: &Label) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(label)) && self.clause_for(label).is_some()
    }

    /// The name shown in traces: the explicit `:name`, else the clause labels.
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let labels: Vec<&str> = self.clauses.iter().map(|c| c.label.as_ref().map_or("else", |l| l.as_str())).collect();
        labels.join(",")
    }
}

/// Interceptors transform the effects that reach them; observers only watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InterceptKind {
    Intercept,
    Observe,
}

/// `(with-intercept [:only (L ...)] f body)` / `(with-observe [:only (L ...)] f body)`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterceptExpr {
    pub kind: InterceptKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<Vec<Label>>,
    pub func: Expr,
    pub body: Expr,
}

impl InterceptExpr {
    pub fn matches(&self, label: &Label) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(label))
    }
}

/// Non-tail (`resume`) or tail (`transfer`) reactivation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResumeMode {
    Resume,
    Transfer,
}

/// `(try body [(catch x handler)] [(finally cleanup)])`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TryExpr {
    pub body: Expr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch: Option<(String, Expr)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finally: Option<Expr>,
}

/// Primitive operations with fixed arity (except `list`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Prim {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Not,
    And,
    Or,
    Concat,
    StrLen,
    Show,
    List,
    Cons,
    Head,
    Tail,
    IsEmpty,
    Len,
    Nth,
    SetNth,
    Slice,
    Append,
    NewCell,
    Get,
    Set,
    MakeError,
    ErrorTag,
    ErrorPayload,
    EffectLabel,
    EffectPayload,
    TypeOf,
    Arity,
    IsLive,
}

impl Prim {
    pub const ALL: &'static [Prim] = &[
        Prim::Add,
        Prim::Sub,
        Prim::Mul,
        Prim::Div,
        Prim::Mod,
        Prim::Eq,
        Prim::Ne,
        Prim::Lt,
        Prim::Le,
        Prim::Gt,
        Prim::Ge,
        Prim::Not,
        Prim::And,
        Prim::Or,
        Prim::Concat,
        Prim::StrLen,
        Prim::Show,
        Prim::List,
        Prim::Cons,
        Prim::Head,
        Prim::Tail,
        Prim::IsEmpty,
        Prim::Len,
        Prim::Nth,
        Prim::SetNth,
        Prim::Slice,
        Prim::Append,
        Prim::NewCell,
        Prim::Get,
        Prim::Set,
        Prim::MakeError,
        Prim::ErrorTag,
        Prim::ErrorPayload,
        Prim::EffectLabel,
        Prim::EffectPayload,
        Prim::TypeOf,
        Prim::Arity,
        Prim::IsLive,
    ];

    /// The name used in the text syntax.
    pub fn name(self) -> &'static str {
        match self {
            Prim::Add => "+",
            Prim::Sub => "-",
            Prim::Mul => "*",
            Prim::Div => "/",
            Prim::Mod => "mod",
            Prim::Eq => "=",
            Prim::Ne => "!=",
            Prim::Lt => "<",
            Prim::Le => "<=",
            Prim::Gt => ">",
            Prim::Ge => ">=",
            Prim::Not => "not",
            Prim::And => "and",
            Prim::Or => "or",
            Prim::Concat => "concat",
            Prim::StrLen => "strlen",
            Prim::Show => "show",
            Prim::List => "list",
            Prim::Cons => "cons",
            Prim::Head => "head",
            Prim::Tail => "tail",
            Prim::IsEmpty => "empty?",
            Prim::Len => "len",
            Prim::Nth => "nth",
            Prim::SetNth => "set-nth",
            Prim::Slice => "slice",
            Prim::Append => "append",
            Prim::NewCell => "new-cell",
            Prim::Get => "get",
            Prim::Set => "set",
            Prim::MakeError => "error",
            Prim::ErrorTag => "error-tag",
            Prim::ErrorPayload => "error-payload",
            Prim::EffectLabel => "effect-label",
            Prim::EffectPayload => "effect-payload",
            Prim::TypeOf => "type-of",
            Prim::Arity => "arity",
            Prim::IsLive => "live?",
        }
    }

    pub fn from_name(s: &str) -> Option<Prim> {
        Prim::ALL.iter().copied().find(|p| p.name() == s)
    }

    /// Number of arguments; `None` means any number (`list`).
    pub fn arity(self) -> Option<usize> {
        match self {
            Prim::List => None,
            Prim::Not
            | Prim::StrLen
            | Prim::Show
            | Prim::Head
            | Prim::Tail
            | Prim::IsEmpty
            | Prim::Len
            | Prim::NewCell
            | Prim::Get
            | Prim::ErrorTag
            | Prim::ErrorPayload
            | Prim::EffectLabel
            | Prim::EffectPayload
            | Prim::TypeOf
            | Prim::Arity
            | Prim::IsLive => Some(1),
            Prim::SetNth | Prim::Slice => Some(3),
            _ => Some(2),
        }
    }
}

/// The expression forms. Each one has its rules in SPEC.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExprKind {
    Lit(Lit),
    Var(String),
    Let {
        name: String,
        value: Box<Expr>,
        body: Box<Expr>,
    },
    /// Non-empty sequence; its value is the last one's.
    Do(Vec<Expr>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    Fn(Lambda),
    Letrec {
        /// Shared, so a prelude's functions are wrapped around each program
        /// without copying them (see `prelude::Prelude::wrap`).
        funs: Arc<Vec<FunDef>>,
        body: Box<Expr>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
    },
    Prim {
        op: Prim,
        args: Vec<Expr>,
    },
    Emit(Box<Expr>),
    /// `(mark "tag" e)`: a `mark` event in the trace (task events of user-space schedulers).
    Mark {
        tag: String,
        arg: Box<Expr>,
    },
    /// `(effect L e)`: an effect value, not performed.
    MakeEffect {
        label: Label,
        arg: Box<Expr>,
    },
    /// `(perform L e)`
    Perform {
        label: Label,
        arg: Box<Expr>,
    },
    /// `(perform e)`: perform an effect value.
    PerformValue(Box<Expr>),
    WithHandler(Box<HandlerExpr>),
    WithIntercept(Box<InterceptExpr>),
    /// `(resume k v)`, `(transfer k v)`, `(resume-throw k err)`, `(transfer-throw k err)`
    Resume {
        mode: ResumeMode,
        throw: bool,
        k: Box<Expr>,
        arg: Box<Expr>,
    },
    /// `(pass k)` / `(pass k eff)`
    Pass {
        k: Box<Expr>,
        effect: Option<Box<Expr>>,
    },
    Raise(Box<Expr>),
    Try(Box<TryExpr>),
    /// `(new-cont f)` / `(new-cont f k)`: an unstarted continuation running `f`,
    /// optionally under a fresh copy of the boundaries `k` carries.
    NewCont {
        func: Box<Expr>,
        envelope: Option<Box<Expr>>,
    },
}

impl Expr {
    /// A node with id 0; call [`Program::renumber`] once the tree is built.
    pub fn new(kind: ExprKind) -> Expr {
        Expr { id: 0, kind }
    }

    /// Direct sub-expressions in evaluation (= text) order. Pre-order numbering,
    /// printing and static checks all follow this order.
    pub fn children(&self) -> Vec<&Expr> {
        use ExprKind::*;
        match &self.kind {
            Lit(_) | Var(_) => vec![],
            Let { value, body, .. } => vec![value, body],
            Do(es) => es.iter().collect(),
            If { cond, then, els } => vec![cond, then, els],
            Fn(l) => vec![&l.body],
            Letrec { funs, body } => {
                let mut v: Vec<&Expr> = funs.iter().map(|f| &*f.lambda.body).collect();
                v.push(body);
                v
            }
            Call { func, args } => std::iter::once(&**func).chain(args.iter()).collect(),
            Prim { args, .. } => args.iter().collect(),
            Emit(e) | PerformValue(e) | Raise(e) => vec![e],
            MakeEffect { arg, .. } | Perform { arg, .. } | Mark { arg, .. } => vec![arg],
            WithHandler(h) => {
                let mut v: Vec<&Expr> = h.clauses.iter().map(|c| &c.body).collect();
                v.push(&h.body);
                v
            }
            WithIntercept(i) => vec![&i.func, &i.body],
            Resume { k, arg, .. } => vec![k, arg],
            Pass { k, effect } => std::iter::once(&**k).chain(effect.as_deref()).collect(),
            Try(t) => {
                std::iter::once(&t.body).chain(t.catch.as_ref().map(|(_, e)| e)).chain(t.finally.as_ref()).collect()
            }
            NewCont { func, envelope } => std::iter::once(&**func).chain(envelope.as_deref()).collect(),
        }
    }

    /// Mutable sub-expressions, same order as [`Expr::children`].
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        use ExprKind::*;
        match &mut self.kind {
            Lit(_) | Var(_) => vec![],
            Let { value, body, .. } => vec![value, body],
            Do(es) => es.iter_mut().collect(),
            If { cond, then, els } => vec![cond, then, els],
            Fn(l) => vec![&mut l.body],
            Letrec { funs, body } => {
                // Copies the functions first if another tree shares them.
                let mut v: Vec<&mut Expr> = Arc::make_mut(funs).iter_mut().map(|f| &mut *f.lambda.body).collect();
                v.push(body);
                v
            }
            Call { func, args } => std::iter::once(&mut **func).chain(args.iter_mut()).collect(),
            Prim { args, .. } => args.iter_mut().collect(),
            Emit(e) | PerformValue(e) | Raise(e) => vec![e],
            MakeEffect { arg, .. } | Perform { arg, .. } | Mark { arg, .. } => vec![arg],
            WithHandler(h) => {
                let h = &mut **h;
                let mut v: Vec<&mut Expr> = h.clauses.iter_mut().map(|c| &mut c.body).collect();
                v.push(&mut h.body);
                v
            }
            WithIntercept(i) => {
                let i = &mut **i;
                vec![&mut i.func, &mut i.body]
            }
            Resume { k, arg, .. } => vec![k, arg],
            Pass { k, effect } => std::iter::once(&mut **k).chain(effect.as_deref_mut()).collect(),
            Try(t) => {
                let t = &mut **t;
                std::iter::once(&mut t.body).chain(t.catch.as_mut().map(|(_, e)| e)).chain(t.finally.as_mut()).collect()
            }
            NewCont { func, envelope } => std::iter::once(&mut **func).chain(envelope.as_deref_mut()).collect(),
        }
    }

    fn renumber_from(&mut self, next: &mut NodeId) {
        self.id = *next;
        *next += 1;
        grow(|| {
            for c in self.children_mut() {
                c.renumber_from(next);
            }
        });
    }

    /// Visit every node in pre-order.
    pub fn walk(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        grow(|| {
            for c in self.children() {
                c.walk(f);
            }
        });
    }

    /// Longest root-to-leaf path, counted in nodes.
    pub fn depth(&self) -> usize {
        grow(|| 1 + self.children().into_iter().map(Expr::depth).max().unwrap_or(0))
    }
}

// Dropping a 1,000,000-deep tree recursively would overflow the native stack;
// each level drops its children on a grown stack instead.
impl Drop for Expr {
    fn drop(&mut self) {
        if matches!(self.kind, ExprKind::Lit(_) | ExprKind::Var(_)) {
            return;
        }
        let kind = std::mem::replace(&mut self.kind, ExprKind::Lit(Lit::Unit));
        grow(move || drop(kind));
    }
}

// Node ids are derived data: JSON carries only the kind, and `Program::from_json`
// renumbers. The impls wrap each level in `grow` so deep trees (de)serialize.
impl Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        grow(|| self.kind.serialize(s))
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        grow(|| ExprKind::deserialize(d)).map(Expr::new)
    }
}
