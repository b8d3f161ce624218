//! The Python classes the VM recognises, registered once by `kont/__init__.py`
//! (they are plain Python classes; exact-type checks on them are pointer
//! comparisons).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

pub struct Registry {
    pub effect_base: Py<PyType>,
    pub program: Py<PyType>,
    pub new_cont: Py<PyType>,
    pub with_handler: Py<PyType>,
    pub with_intercept: Py<PyType>,
    pub with_observe: Py<PyType>,
    pub exhausted: Py<PyType>,
    pub kont_error: Py<PyType>,
    /// The base of the prelude-call nodes (`Spawn`, `Wait`, …).
    pub prelude_call: Py<PyType>,
    /// `Handle(kind, id, value)`: a task, promise or semaphore handle.
    pub handle: Py<PyType>,
    /// `types.GeneratorType`.
    pub generator: Py<PyType>,
    /// `_error_from_kont(tag, payload)`: the exception for a kont error value.
    pub error_from_kont: Py<PyAny>,
}

static REGISTRY: PyOnceLock<Registry> = PyOnceLock::new();

/// The registered classes; `kont` registers them on import.
pub fn get(py: Python<'_>) -> &Registry {
    REGISTRY.get(py).expect("kont._kont is used through the kont package, which registers its classes")
}

/// `_kont._register(namespace)`: take the classes from `kont._api`.
#[pyfunction]
pub fn _register(py: Python<'_>, ns: &Bound<'_, PyDict>) -> PyResult<()> {
    let ty = |name: &str| -> PyResult<Py<PyType>> {
        let v = ns.get_item(name)?.ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(name.to_string()))?;
        Ok(v.cast_into::<PyType>()?.unbind())
    };
    let r = Registry {
        effect_base: ty("EffectBase")?,
        program: ty("Program")?,
        new_cont: ty("NewCont")?,
        with_handler: ty("WithHandler")?,
        with_intercept: ty("WithIntercept")?,
        with_observe: ty("WithObserve")?,
        exhausted: ty("ExhaustedError")?,
        kont_error: ty("KontError")?,
        prelude_call: ty("PreludeCall")?,
        handle: ty("Handle")?,
        generator: ty("GeneratorType")?,
        error_from_kont: ns
            .get_item("_error_from_kont")?
            .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err("_error_from_kont"))?
            .unbind(),
    };
    // Registering twice (a reload) keeps the first classes.
    let _ = REGISTRY.set(py, r);
    Ok(())
}
