//! The runtime error catalogue (SPEC.md §7). Every runtime error is an
//! ordinary error value `(error tag payload)` raised at a node; programs can
//! catch it. Errors about a value carry that value as payload; the others carry
//! a message built by the functions below, which both engines call, so
//! messages are identical byte for byte.

use crate::value::ValueView;

/// Tags of the errors the runtime raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorTag {
    /// An operand has the wrong type.
    TypeError,
    /// Call of a value that is not a function. Payload: the value.
    NotAFunction,
    /// Call with the wrong number of arguments.
    Arity,
    /// `resume`/`transfer`/`pass`/`new-cont`/`live?` given a value that is not a
    /// continuation. Payload: the value.
    NotAContinuation,
    /// A continuation used after it was consumed. Payload: the continuation.
    OneShot,
    /// A continuation or cell created by another run. Payload: the value.
    Stale,
    /// No handler accepted an effect. Payload: the effect.
    Unhandled,
    /// 64-bit integer overflow.
    Overflow,
    DivisionByZero,
    /// `head`/`tail` of an empty list, `nth` out of range.
    Index,
    /// `transfer`, `transfer-throw` or `pass` outside any handler clause.
    OutsideClause,
}

impl ErrorTag {
    pub const ALL: &'static [ErrorTag] = &[
        ErrorTag::TypeError,
        ErrorTag::NotAFunction,
        ErrorTag::Arity,
        ErrorTag::NotAContinuation,
        ErrorTag::OneShot,
        ErrorTag::Stale,
        ErrorTag::Unhandled,
        ErrorTag::Overflow,
        ErrorTag::DivisionByZero,
        ErrorTag::Index,
        ErrorTag::OutsideClause,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorTag::TypeError => "type-error",
            ErrorTag::NotAFunction => "not-a-function",
            ErrorTag::Arity => "arity",
            ErrorTag::NotAContinuation => "not-a-continuation",
            ErrorTag::OneShot => "one-shot",
            ErrorTag::Stale => "stale",
            ErrorTag::Unhandled => "unhandled",
            ErrorTag::Overflow => "overflow",
            ErrorTag::DivisionByZero => "division-by-zero",
            ErrorTag::Index => "index",
            ErrorTag::OutsideClause => "outside-clause",
        }
    }

    pub fn from_name(s: &str) -> Option<ErrorTag> {
        ErrorTag::ALL.iter().copied().find(|t| t.name() == s)
    }

    /// The error value with this tag and `payload`.
    pub fn with(self, payload: ValueView) -> ValueView {
        ValueView::error(self.name(), payload)
    }

    pub fn msg(self, text: impl Into<String>) -> ValueView {
        self.with(ValueView::Str(text.into()))
    }
}

/// Primitive `op` wanted `expected` as argument `index` (1-based) but got a value of type `got`.
pub fn type_error(op: &str, index: usize, expected: &str, got: &str) -> ValueView {
    ErrorTag::TypeError.msg(format!("{op}: argument {index} must be {expected}, got {got}"))
}

/// A form (not a primitive) got an operand of type `got` where it wanted `expected`.
pub fn form_type_error(form: &str, expected: &str, got: &str) -> ValueView {
    ErrorTag::TypeError.msg(format!("{form}: expected {expected}, got {got}"))
}

pub fn equality_on_functions(op: &str) -> ValueView {
    ErrorTag::TypeError.msg(format!("{op}: functions cannot be compared"))
}

pub fn arity(expected: usize, got: usize) -> ValueView {
    ErrorTag::Arity.msg(format!("function takes {expected} argument(s), got {got}"))
}

pub fn overflow(op: &str, a: i64, b: i64) -> ValueView {
    ErrorTag::Overflow.msg(format!("({op} {a} {b})"))
}

pub fn division_by_zero(op: &str, a: i64) -> ValueView {
    ErrorTag::DivisionByZero.msg(format!("({op} {a} 0)"))
}

/// `head` or `tail` of an empty list.
pub fn empty_list(op: &str) -> ValueView {
    ErrorTag::Index.msg(format!("{op}: empty list"))
}

/// `nth` with an index outside `0..len`.
pub fn out_of_range(op: &str, index: i64, len: usize) -> ValueView {
    ErrorTag::Index.msg(format!("{op}: index {index} out of range for length {len}"))
}

/// `slice` with bounds that are not `0 <= i <= j <= len`.
pub fn bad_slice(i: i64, j: i64, len: usize) -> ValueView {
    ErrorTag::Index.msg(format!("slice: bounds {i}..{j} out of range for length {len}"))
}

/// `form` is `transfer`, `transfer-throw` or `pass`.
pub fn outside_clause(form: &str) -> ValueView {
    ErrorTag::OutsideClause.msg(format!("{form} outside a handler clause"))
}
