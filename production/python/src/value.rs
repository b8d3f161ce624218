//! Python objects as VM values and back (SPEC.md §14.5). A Python object is
//! a host value that keeps its identity; only continuations cross as the
//! VM's own (`K` <-> `Value::Cont`). Views (for traces) read the object.

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;

use kont_spec::ast::Label;
use kont_spec::ValueView;
use kont_vm::host::{HostFrame, HostValue};
use kont_vm::{Continuation, Value};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyList, PyString};

use crate::k::{ThreadBound, K};
use crate::registry;

/// A Python object in the VM.
pub struct PyHost {
    pub obj: Py<PyAny>,
    /// What the VM asked about it, computed once: bit 0 known, 1 effect, 2 error, 3 callable.
    kind: Cell<u8>,
    /// Its kont type name (index into `TYPE_NAMES`), computed once; `u8::MAX` until asked.
    tname: Cell<u8>,
}

/// The kont type names a Python value can have (SPEC.md §14.5).
const TYPE_NAMES: [&str; 10] = ["python", "unit", "bool", "int", "str", "error", "effect", "list", "fn", "cell"];

const KNOWN: u8 = 1;
const EFFECT: u8 = 2;
const ERROR: u8 = 4;
const CALLABLE: u8 = 8;

impl PyHost {
    fn kind(&self) -> u8 {
        let k = self.kind.get();
        if k & KNOWN != 0 {
            return k;
        }
        let k = Python::attach(|py| {
            let o = self.obj.bind(py);
            let mut k = KNOWN;
            if o.is_instance(registry::get(py).effect_base.bind(py)).unwrap_or(false) {
                k |= EFFECT;
            }
            if o.is_instance_of::<pyo3::exceptions::PyBaseException>() {
                k |= ERROR;
            }
            if o.is_callable() {
                k |= CALLABLE;
            }
            k
        });
        self.kind.set(k);
        k
    }
}

impl HostValue for PyHost {
    /// Its kont type (SPEC.md §14.5): `None`, `bool`, `int` and `str` are
    /// kont's, an exception is an error, an effect an effect; a class may
    /// name one with `__kont_type__` ("list", "fn", "cell"); else `python`.
    fn type_name(&self) -> &'static str {
        let t = self.tname.get();
        if t != u8::MAX {
            return TYPE_NAMES[t as usize];
        }
        let name = Python::attach(|py| kont_type(self.obj.bind(py)));
        let t = TYPE_NAMES.iter().position(|n| *n == name).unwrap_or(0) as u8;
        self.tname.set(t);
        TYPE_NAMES[t as usize]
    }
    fn view(&self, run: u64) -> ValueView {
        Python::attach(|py| view_of(self.obj.bind(py), run))
    }
    fn callable(&self) -> bool {
        self.kind() & CALLABLE != 0
    }
    fn call(&self, args: Vec<Value>) -> Option<Box<dyn HostFrame>> {
        if !self.callable() {
            return None;
        }
        Some(Python::attach(|py| {
            let args: Vec<Py<PyAny>> = args.iter().map(|a| to_py(py, a)).collect();
            let args = pyo3::types::PyTuple::new(py, args).expect("a tuple");
            crate::frame::start_call(py, self.obj.bind(py), &args)
        }))
    }
    fn is_effect(&self) -> bool {
        self.kind() & EFFECT != 0
    }
    fn is_error(&self) -> bool {
        self.kind() & ERROR != 0
    }
    fn error_tag(&self) -> Option<String> {
        if !self.is_error() {
            return None;
        }
        Python::attach(|py| {
            let o = self.obj.bind(py);
            if !o.is_instance(registry::get(py).kont_error.bind(py)).unwrap_or(false) {
                return None;
            }
            o.getattr("tag").ok()?.extract::<String>().ok()
        })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn kont_type(o: &Bound<'_, PyAny>) -> &'static str {
    let py = o.py();
    if o.is_none() {
        "unit"
    } else if o.is_instance_of::<PyBool>() {
        "bool"
    } else if o.is_instance_of::<PyInt>() {
        "int"
    } else if o.is_instance_of::<PyString>() {
        "str"
    } else if o.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        "error"
    } else if o.is_instance(registry::get(py).effect_base.bind(py)).unwrap_or(false) {
        "effect"
    } else {
        let named = o.get_type().getattr("__kont_type__").and_then(|n| n.extract::<String>()).unwrap_or_default();
        TYPE_NAMES[7..].iter().find(|n| **n == named).copied().unwrap_or("python")
    }
}

/// A Python object as a VM value.
pub fn to_value(py: Python<'_>, obj: &Bound<'_, PyAny>) -> Value {
    if let Ok(k) = obj.cast::<K>() {
        let k = k.get();
        return match k.cont.get() {
            Some(c) => Value::Cont(c.clone()),
            // A K of another thread's run: stale here (SPEC.md §14.1).
            None => Value::Cont(Rc::new(Continuation::foreign(k.id))),
        };
    }
    if obj.get_type().is(registry::get(py).handle.bind(py)) {
        if let Some(v) = handle_value(obj) {
            return v;
        }
    }
    host(obj.clone().unbind())
}

/// A scheduler handle (a `Handle` or a subclass) as the kont data it stands for: `(list "task" 3)`.
pub fn handle_value(obj: &Bound<'_, PyAny>) -> Option<Value> {
    let kind: String = obj.getattr("kind").ok()?.extract().ok()?;
    let id: i64 = obj.getattr("id").ok()?.extract().ok()?;
    Some(Value::list(vec![Value::str(&kind), Value::Int(id)]))
}

/// A task, promise or semaphore handle (`(list "task" 3)`) as a Python `Handle`.
fn handle_of(py: Python<'_>, items: &[Value]) -> Option<Py<PyAny>> {
    let [Value::Str(kind), Value::Int(id)] = items else { return None };
    if !matches!(kind.as_str(), "task" | "promise" | "semaphore") {
        return None;
    }
    registry::get(py).handle.bind(py).call1((kind.as_str(), *id)).ok().map(Bound::unbind)
}

/// A Python object as a host value, its kind not yet known.
pub fn host(obj: Py<PyAny>) -> Value {
    Value::Host(Rc::new(Box::new(PyHost { obj, kind: Cell::new(0), tname: Cell::new(u8::MAX) })))
}

/// A Python object known to be an effect (skips the type check).
pub fn host_effect(obj: Py<PyAny>) -> Value {
    Value::Host(Rc::new(Box::new(PyHost { obj, kind: Cell::new(KNOWN | EFFECT), tname: Cell::new(6) })))
}

/// A VM value as a Python object: host values are themselves, continuations
/// become `K`, kont errors become exceptions, kont data becomes Python data.
pub fn to_py(py: Python<'_>, v: &Value) -> Py<PyAny> {
    match v {
        Value::Host(h) => match h.as_any().downcast_ref::<PyHost>() {
            Some(p) => p.obj.clone_ref(py),
            // The package's other host value (the program entry) holds no continuation: any run will do.
            None => PyString::new(py, &view_text(&h.view(0))).into_any().unbind(),
        },
        Value::Unit => py.None(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Value::Int(i) => i.into_pyobject(py).expect("an int").into_any().unbind(),
        Value::Str(s) => PyString::new(py, s).into_any().unbind(),
        Value::List(items) => {
            if let Some(h) = handle_of(py, items) {
                return h;
            }
            let items: Vec<Py<PyAny>> = items.iter().map(|x| to_py(py, x)).collect();
            PyList::new(py, items).expect("a list").into_any().unbind()
        }
        Value::Cont(c) => {
            Py::new(py, K { cont: ThreadBound::new(c.clone()), id: c.id, run: c.run }).expect("a K").into_any()
        }
        Value::Error(e) => {
            let payload = to_py(py, &e.payload);
            let f = registry::get(py).error_from_kont.bind(py);
            match f.call1((e.tag.as_str(), payload)) {
                Ok(exc) => exc.unbind(),
                Err(err) => err.into_value(py).into_any(),
            }
        }
        // Functions, cells and kont effects reach Python only from mixed programs: shown as text.
        other => PyString::new(py, &format!("<kont {}>", other.type_name())).into_any().unbind(),
    }
}

fn view_text(v: &ValueView) -> String {
    v.to_string()
}

/// How a Python object appears in traces of run `run` (SPEC.md §14.5).
pub fn view_of(o: &Bound<'_, PyAny>, run: u64) -> ValueView {
    let py = o.py();
    if o.is_none() {
        return ValueView::Unit;
    }
    if let Ok(b) = o.cast::<PyBool>() {
        return ValueView::Bool(b.is_true());
    }
    if o.is_instance_of::<PyInt>() {
        if let Ok(i) = o.extract::<i64>() {
            return ValueView::Int(i);
        }
    }
    if let Ok(s) = o.cast::<PyString>() {
        return ValueView::Str(s.to_string_lossy().into_owned());
    }
    if let Ok(k) = o.cast::<K>() {
        return ValueView::Cont { id: k.get().id, earlier: k.get().run != run };
    }
    let ty = o.get_type();
    let name = ty.qualname().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    // kont's own errors keep their kont form, so a trace follows them across the raise into Python.
    if o.is_instance(registry::get(py).kont_error.bind(py)).unwrap_or(false) {
        if let (Ok(tag), Ok(payload)) = (o.getattr("tag").and_then(|t| t.extract::<String>()), o.getattr("payload")) {
            return ValueView::error(tag, view_of(&payload, run));
        }
    }
    if o.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        let text = o.str().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        return ValueView::error(name, ValueView::Str(text));
    }
    if o.is_instance(registry::get(py).effect_base.bind(py)).unwrap_or(false) {
        return ValueView::Effect { label: Label(name), payload: Box::new(ValueView::Host { repr: fields(o) }) };
    }
    ValueView::Host { repr: o.repr().map(|s| s.to_string_lossy().into_owned()).unwrap_or(name) }
}

/// An effect's fields, `a=1, b='x'` (its `__dict__` in order; else its repr).
fn fields(o: &Bound<'_, PyAny>) -> String {
    if let Ok(d) = o.getattr("__dict__").and_then(|d| d.cast_into::<pyo3::types::PyDict>().map_err(Into::into)) {
        let parts: Vec<String> = d
            .iter()
            .map(|(k, v)| format!("{}={}", k, v.repr().map(|r| r.to_string_lossy().into_owned()).unwrap_or_default()))
            .collect();
        return parts.join(", ");
    }
    o.repr().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The exception to raise in Python for VM error value `err`.
pub fn to_exception(py: Python<'_>, err: &Value) -> PyErr {
    let obj = to_py(py, err);
    let b = obj.bind(py);
    if b.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        PyErr::from_value(b.clone())
    } else {
        // Raising a non-exception value (a kont program's data): wrap it.
        let f = registry::get(py).error_from_kont.bind(py);
        match f.call1(("raised", obj.clone_ref(py))) {
            Ok(e) => PyErr::from_value(e),
            Err(e) => e,
        }
    }
}
