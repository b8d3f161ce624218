//! Python handlers, interceptors and observers as host boundaries: the VM
//! installs them at a fiber's base with their own scope id, dispatch asks
//! `takes` (the type filter, an `isinstance` check), and `start` runs the
//! Python function as host code.

use kont_spec::BoundaryKind;
use kont_vm::host::{HostBoundary, HostFrame};
use kont_vm::Value;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::frame::{clause_frame, frame_of, started};
use crate::registry::Registry;
use crate::value::to_py;

pub struct PyBoundary {
    kind: BoundaryKind,
    /// The function: `(effect, k)` for a handler, `(effect)` otherwise.
    func: Py<PyAny>,
    /// The effect types it takes (`None`: every effect).
    types: Option<Py<PyTuple>>,
    name: String,
}

impl PyBoundary {
    /// From a `WithHandler` / `WithIntercept` / `WithObserve` node.
    pub fn from_node(py: Python<'_>, reg: &Registry, node: &Bound<'_, PyAny>) -> PyResult<PyBoundary> {
        let ty = node.get_type();
        let (kind, func) = if ty.is(reg.with_handler.bind(py)) {
            (BoundaryKind::Handler, node.getattr(pyo3::intern!(py, "fn"))?)
        } else if ty.is(reg.with_intercept.bind(py)) {
            (BoundaryKind::Intercept, node.getattr(pyo3::intern!(py, "f"))?)
        } else {
            (BoundaryKind::Observe, node.getattr(pyo3::intern!(py, "f"))?)
        };
        let types = node.getattr(pyo3::intern!(py, "types"))?;
        let types = if types.is_none() { None } else { Some(types.cast_into::<PyTuple>()?.unbind()) };
        let name: String = node.getattr(pyo3::intern!(py, "name"))?.extract()?;
        Ok(PyBoundary { kind, func: func.unbind(), types, name })
    }
}

impl HostBoundary for PyBoundary {
    fn kind(&self) -> BoundaryKind {
        self.kind
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn takes(&self, effect: &Value) -> bool {
        let Some(types) = &self.types else { return true };
        Python::attach(|py| to_py(py, effect).bind(py).is_instance(types.bind(py).as_any()).unwrap_or(false))
    }

    fn start(&self, effect: Value, k: Option<Value>) -> Result<Box<dyn HostFrame>, Value> {
        Ok(Python::attach(|py| {
            let f = self.func.bind(py);
            let effect = to_py(py, &effect);
            match k {
                Some(k) => clause_frame(py, started(py, f.call1((effect, to_py(py, &k))))),
                None => frame_of(py, started(py, f.call1((effect,)))),
            }
        }))
    }
}
