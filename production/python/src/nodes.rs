//! The continuation forms as native classes: built and read at C speed,
//! since a handler yields one per effect it handles. (Their Python-level
//! docs are in `kont/_kont.pyi`.)

use pyo3::prelude::*;

/// `yield Resume(k, v)`: continue `k` with `v`; the yield gets the value of
/// the resumed computation up to its handler (non-tail).
#[pyclass(module = "kont", frozen)]
pub struct Resume {
    #[pyo3(get)]
    pub k: Py<PyAny>,
    #[pyo3(get)]
    pub value: Py<PyAny>,
}

#[pymethods]
impl Resume {
    #[new]
    fn new(k: Py<PyAny>, value: Py<PyAny>) -> Self {
        Resume { k, value }
    }
}

/// `yield Transfer(k, v)`: the handler ends and `k` continues with `v` in
/// its place (tail). The handler generator is closed first.
#[pyclass(module = "kont", frozen)]
pub struct Transfer {
    #[pyo3(get)]
    pub k: Py<PyAny>,
    #[pyo3(get)]
    pub value: Py<PyAny>,
}

#[pymethods]
impl Transfer {
    #[new]
    fn new(k: Py<PyAny>, value: Py<PyAny>) -> Self {
        Transfer { k, value }
    }
}

/// `yield ResumeThrow(k, exc)`: raise `exc` inside `k` at its perform; the
/// yield gets what that computation then returns.
#[pyclass(module = "kont", frozen)]
pub struct ResumeThrow {
    #[pyo3(get)]
    pub k: Py<PyAny>,
    /// The exception.
    #[pyo3(get)]
    pub value: Py<PyAny>,
}

#[pymethods]
impl ResumeThrow {
    #[new]
    fn new(k: Py<PyAny>, exc: Py<PyAny>) -> Self {
        ResumeThrow { k, value: exc }
    }
}

/// `yield TransferThrow(k, exc)`: the handler ends and `exc` is raised
/// inside `k` at its perform.
#[pyclass(module = "kont", frozen)]
pub struct TransferThrow {
    #[pyo3(get)]
    pub k: Py<PyAny>,
    /// The exception.
    #[pyo3(get)]
    pub value: Py<PyAny>,
}

#[pymethods]
impl TransferThrow {
    #[new]
    fn new(k: Py<PyAny>, exc: Py<PyAny>) -> Self {
        TransferThrow { k, value: exc }
    }
}

/// `yield Pass(effect, k)`: this handler declines; the dispatch goes on
/// outward with `k`, and with `effect` (which may be a different one).
#[pyclass(module = "kont", frozen)]
pub struct Pass {
    #[pyo3(get)]
    pub effect: Py<PyAny>,
    #[pyo3(get)]
    pub k: Py<PyAny>,
}

#[pymethods]
impl Pass {
    #[new]
    fn new(effect: Py<PyAny>, k: Py<PyAny>) -> Self {
        Pass { effect, k }
    }
}
