//! `kont._kont`: Python generator programs on the kont production VM
//! (SPEC.md §14). The VM drives Python generators as host frames
//! (`frame.rs`), Python handlers as host boundaries (`boundary.rs`), Python
//! objects as host values (`value.rs`), and continuations as `K`
//! (`k.rs`). The GIL is held for the whole run: every crossing into Python
//! re-attaches to it (`Python::attach`, cheap when held).

mod boundary;
mod frame;
mod k;
mod nodes;
mod registry;
mod value;

use kont_spec::{Limits, RunOptions};
use kont_vm::host::{run_host, HostExternal, HostFrame, HostStop, HostValue};
use kont_vm::Value;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::frame::LazyProgram;
use crate::value::{to_exception, to_py};

/// The entry of a run: calling it starts the program.
struct Entry(Py<PyAny>);

impl HostValue for Entry {
    fn view(&self, _run: u64) -> kont_spec::ValueView {
        kont_spec::ValueView::Host { repr: "program".into() }
    }
    fn callable(&self) -> bool {
        true
    }
    fn call(&self, args: Vec<Value>) -> Option<Box<dyn HostFrame>> {
        // The driver hands over the standard prelude's API first.
        if let Some(Value::List(api)) = args.first() {
            frame::set_prelude(api.iter().cloned().collect());
        }
        Some(Python::attach(|py| Box::new(LazyProgram::new(self.0.clone_ref(py))) as Box<dyn HostFrame>))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The Python side's settler of promises from outside (`kont/_awaiting.py`):
/// a callable that blocks until an awaited thing completes and returns
/// `[(promise_id, ok, value_or_exception), …]` (`[]`: nothing pending).
struct PyExternal(Py<PyAny>);

impl HostExternal for PyExternal {
    fn wait(&mut self) -> Vec<(u32, bool, Value)> {
        Python::attach(|py| {
            let r = self.0.bind(py).call0().and_then(|r| r.extract::<Vec<(u32, bool, Bound<'_, PyAny>)>>());
            match r {
                Ok(items) => items.into_iter().map(|(p, ok, v)| (p, ok, value::to_value(py, &v))).collect(),
                // The settler itself failed: reported; nothing settles (the scheduler then reports its deadlock).
                Err(e) => {
                    e.write_unraisable(py, Some(self.0.bind(py)));
                    Vec::new()
                }
            }
        })
    }
}

/// What a run gives back to Python: the value or the exception, and the
/// trace when it was recorded.
#[pyclass(module = "kont", name = "RunReport", frozen)]
struct RunReport {
    /// The program's value (`None` when it failed).
    #[pyo3(get)]
    value: Py<PyAny>,
    /// The uncaught exception (`None` when it succeeded).
    #[pyo3(get)]
    error: Py<PyAny>,
    /// The trace, one event per line, sites as `file:line` (SPEC.md §7, §14.6).
    #[pyo3(get)]
    events: Py<PyList>,
    /// kont's rendered traceback of the error (`None` without an error or a trace).
    #[pyo3(get)]
    traceback: Option<String>,
    /// Fuel spent: one unit per step of Python code (SPEC.md §14.7).
    #[pyo3(get)]
    steps: u64,
}

/// Run `program` on the VM and report how it ended (never raises for the
/// program's own errors; `ExhaustedError` is the `error` when a limit ends it).
#[pyfunction]
#[pyo3(signature = (program, *, fuel=None, depth=None, memory=None, trace=true, external=None))]
fn run_report(
    py: Python<'_>,
    program: Bound<'_, PyAny>,
    fuel: Option<u64>,
    depth: Option<u32>,
    memory: Option<u64>,
    trace: bool,
    external: Option<Py<PyAny>>,
) -> PyResult<RunReport> {
    let mut limits = Limits::DEFAULT;
    if let Some(f) = fuel {
        limits.fuel = f;
    }
    if let Some(d) = depth {
        limits.depth = d;
    }
    if let Some(m) = memory {
        limits.memory = m;
    }
    let entry = Value::Host(std::rc::Rc::new(Box::new(Entry(program.unbind()))));
    frame::open_run();
    let external = external.map(|f| Box::new(PyExternal(f)) as Box<dyn HostExternal>);
    let r = run_host(entry, limits, RunOptions { trace }, external);
    // The run is over: close what it abandoned, in order (SPEC.md §14.4).
    for gen in frame::close_run() {
        if let Err(e) = gen.bind(py).call_method0("close") {
            e.write_unraisable(py, Some(gen.bind(py)));
        }
    }
    let map = &r.map;
    let events: Vec<String> = r.trace.iter().map(|e| e.render(Some(map))).collect();
    let events = PyList::new(py, events)?.unbind();
    let (value, error, traceback) = match r.stop {
        HostStop::Value(v) => (to_py(py, &v), py.None(), None),
        HostStop::Error(e, site) => {
            let exc = to_exception(py, &e).into_value(py).into_any();
            let tb = if trace {
                let _ = site;
                kont_spec::traceback::render(&r.trace, &r.outcome, Some(map))
            } else {
                None
            };
            (py.None(), exc, tb)
        }
        HostStop::Exhausted(res) => {
            let exc = registry::get(py).exhausted.bind(py).call1((res.name(),))?;
            (py.None(), exc.unbind(), None)
        }
    };
    Ok(RunReport { value, error, events, traceback, steps: r.steps })
}

#[pymodule]
fn _kont(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_report, m)?)?;
    m.add_function(wrap_pyfunction!(registry::_register, m)?)?;
    m.add_class::<k::K>()?;
    m.add_class::<nodes::Resume>()?;
    m.add_class::<nodes::Transfer>()?;
    m.add_class::<nodes::ResumeThrow>()?;
    m.add_class::<nodes::TransferThrow>()?;
    m.add_class::<nodes::Pass>()?;
    m.add_class::<RunReport>()?;
    Ok(())
}
