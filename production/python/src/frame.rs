//! Python code as host frames: a running generator, and the one-step frames
//! for plain functions. A generator's `yield` is classified here into the
//! VM's steps (perform, call, install, the continuation forms); anything
//! else is a `TypeError` raised into the generator at that `yield`.

use std::cell::RefCell;

use kont_vm::host::{HostFrame, HostInput, HostStep};
use kont_vm::Value;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::iterator::PySendResult;
use pyo3::types::{PyDict, PyIterator, PyTuple};

use crate::boundary::PyBoundary;
use crate::nodes;
use crate::registry::{self, Registry};
use crate::value::{host, host_effect, to_exception, to_py, to_value};

thread_local! {
    /// Per run on this thread (runs nest): the generators dropped unfinished,
    /// closed when their run ends (SPEC.md §14.4).
    static ABANDONED: RefCell<Vec<Vec<Py<PyAny>>>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// Per run on this thread: the standard prelude's API functions the run's
    /// driver handed to its entry (`kont_vm::host::PRELUDE_API` order).
    static PRELUDE: RefCell<Vec<Vec<Value>>> = const { RefCell::new(Vec::new()) };
}

/// Start collecting the generators abandoned by a new run.
pub fn open_run() {
    ABANDONED.with(|a| a.borrow_mut().push(Vec::new()));
    PRELUDE.with(|p| p.borrow_mut().push(Vec::new()));
}

/// The run ended: its abandoned generators, in the order they were dropped.
pub fn close_run() -> Vec<Py<PyAny>> {
    PRELUDE.with(|p| p.borrow_mut().pop());
    ABANDONED.with(|a| a.borrow_mut().pop().unwrap_or_default())
}

/// The running run's prelude API (its entry received it).
pub fn set_prelude(api: Vec<Value>) {
    PRELUDE.with(|p| {
        if let Some(top) = p.borrow_mut().last_mut() {
            *top = api;
        }
    });
}

fn prelude_fn(i: usize) -> Option<Value> {
    PRELUDE.with(|p| p.borrow().last().and_then(|api| api.get(i).cloned()))
}

/// A running Python generator.
pub struct GenFrame {
    gen: Py<PyIterator>,
    /// It returned, raised or was closed: nothing left to close.
    done: bool,
    /// Where it raised, when it did (its frame is gone by then).
    raised_at: Option<String>,
}

impl GenFrame {
    pub fn new(gen: Bound<'_, PyIterator>) -> GenFrame {
        GenFrame { gen: gen.unbind(), done: false, raised_at: None }
    }
}

/// `file:line` of the innermost Python frame an exception passed through.
fn raise_site(py: Python<'_>, e: &PyErr) -> Option<String> {
    let mut tb = e.traceback(py)?.into_any();
    loop {
        let next = tb.getattr(intern!(py, "tb_next")).ok()?;
        if next.is_none() {
            break;
        }
        tb = next;
    }
    let line: u32 = tb.getattr(intern!(py, "tb_lineno")).ok()?.extract().ok()?;
    let code = tb.getattr(intern!(py, "tb_frame")).ok()?.getattr(intern!(py, "f_code")).ok()?;
    let file: String = code.getattr(intern!(py, "co_filename")).ok()?.extract().ok()?;
    Some(format!("{}:{line}", short_file(&file)))
}

fn short_file(file: &str) -> String {
    std::path::Path::new(file).file_name().map_or_else(|| file.to_string(), |f| f.to_string_lossy().into_owned())
}

impl Drop for GenFrame {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Never closed by the collector mid-run: the run closes it at its end.
        let gen = Python::attach(|py| self.gen.clone_ref(py).into_any());
        ABANDONED.with(|a| {
            if let Some(run) = a.borrow_mut().last_mut() {
                run.push(gen);
            }
        });
    }
}

/// What a generator did when sent a value or thrown an error.
enum Sent<'py> {
    Yielded(Bound<'py, PyAny>),
    Returned(Bound<'py, PyAny>),
    Raised(PyErr),
}

fn send<'py>(gen: &Bound<'py, PyIterator>, v: &Bound<'py, PyAny>) -> Sent<'py> {
    match gen.send(v) {
        Ok(PySendResult::Next(y)) => Sent::Yielded(y),
        Ok(PySendResult::Return(r)) => Sent::Returned(r),
        Err(e) => Sent::Raised(e),
    }
}

fn throw<'py>(gen: &Bound<'py, PyIterator>, err: PyErr) -> Sent<'py> {
    let py = gen.py();
    match gen.call_method1(intern!(py, "throw"), (err.into_value(py),)) {
        Ok(y) => Sent::Yielded(y),
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => {
            let v = e.value(py).getattr(intern!(py, "value")).unwrap_or_else(|_| py.None().into_bound(py));
            Sent::Returned(v)
        }
        Err(e) => Sent::Raised(e),
    }
}

impl HostFrame for GenFrame {
    fn resume(&mut self, input: HostInput) -> HostStep {
        Python::attach(|py| {
            let gen = self.gen.bind(py);
            // An error thrown in that comes straight back out passes through (no new raise).
            let mut thrown: Option<(Py<PyAny>, Value, kont_spec::NodeId)> = None;
            let mut r = match input {
                HostInput::Value(v) => send(gen, to_py(py, &v).bind(py)),
                HostInput::Throw(e, at) => {
                    let exc = to_exception(py, &e);
                    thrown = Some((exc.value(py).clone().into_any().unbind(), e, at));
                    throw(gen, exc)
                }
            };
            loop {
                match r {
                    Sent::Yielded(y) => match classify(py, &y) {
                        Classified::Step(step) => return step,
                        Classified::Answer(v) => {
                            thrown = None;
                            r = send(gen, &v)
                        }
                        Classified::Throw(e) => {
                            thrown = None;
                            r = throw(gen, e)
                        }
                    },
                    Sent::Returned(v) => {
                        self.done = true;
                        return HostStep::Return(to_value(py, &v));
                    }
                    Sent::Raised(e) => {
                        self.done = true;
                        let exc = e.value(py).clone().into_any();
                        if let Some((_, original, at)) = thrown.filter(|(t, ..)| t.bind(py).is(&exc)) {
                            return HostStep::Unwind(original, at);
                        }
                        self.raised_at = raise_site(py, &e);
                        return HostStep::Raise(host(e.into_value(py).into_any()));
                    }
                }
            }
        })
    }

    fn close(&mut self) -> Option<Value> {
        self.done = true;
        Python::attach(|py| match self.gen.bind(py).call_method0(intern!(py, "close")) {
            Ok(_) => None,
            Err(e) => Some(host(e.into_value(py).into_any())),
        })
    }

    fn site(&self) -> Option<String> {
        if self.raised_at.is_some() {
            return self.raised_at.clone();
        }
        Python::attach(|py| generator_site(self.gen.bind(py).as_any()))
    }
}

/// `file:line` of a suspended generator.
fn generator_site(gen: &Bound<'_, PyAny>) -> Option<String> {
    let py = gen.py();
    let frame = gen.getattr(intern!(py, "gi_frame")).ok().filter(|f| !f.is_none())?;
    let line: u32 = frame.getattr(intern!(py, "f_lineno")).ok()?.extract().ok()?;
    let file: String =
        gen.getattr(intern!(py, "gi_code")).ok()?.getattr(intern!(py, "co_filename")).ok()?.extract().ok()?;
    Some(format!("{}:{line}", short_file(&file)))
}

/// A frame whose one step is already known: a plain function's result or error.
pub struct DoneFrame(Option<HostStep>);

impl HostFrame for DoneFrame {
    fn resume(&mut self, _input: HostInput) -> HostStep {
        self.0.take().expect("a done frame runs once")
    }
}

/// A plain handler function returned a control node (`return Resume(k, v)`):
/// do it, then return what it gives back.
pub struct ControlFrame(Option<HostStep>);

impl HostFrame for ControlFrame {
    fn resume(&mut self, input: HostInput) -> HostStep {
        match (self.0.take(), input) {
            (Some(step), _) => step,
            (None, HostInput::Value(v)) => HostStep::Return(v),
            (None, HostInput::Throw(e, at)) => HostStep::Unwind(e, at),
        }
    }
}

/// What a yielded object asks for.
enum Classified<'py> {
    Step(HostStep),
    /// Answered without the VM (a plain function's value): send it back.
    Answer(Bound<'py, PyAny>),
    /// Refused: raise this into the generator at its `yield`.
    Throw(PyErr),
}

fn classify<'py>(py: Python<'py>, y: &Bound<'py, PyAny>) -> Classified<'py> {
    let reg = registry::get(py);
    let ty = y.get_type();
    let is = |t: &Py<pyo3::types::PyType>| ty.is(t.bind(py));
    if is(&reg.program) {
        return match start_program(py, y) {
            Started::Frame(f) => Classified::Step(HostStep::Enter(f)),
            Started::Value(v) => Classified::Answer(v),
            Started::Raised(e) => Classified::Throw(e),
        };
    }
    if let Some(step) = control(py, reg, y) {
        return match step {
            Ok(step) => Classified::Step(step),
            Err(e) => Classified::Throw(e),
        };
    }
    if y.is_instance(reg.effect_base.bind(py)).unwrap_or(false) {
        return Classified::Step(HostStep::Perform(host_effect(y.clone().unbind())));
    }
    if y.is_instance(reg.prelude_call.bind(py)).unwrap_or(false) {
        return match prelude_call(py, y) {
            Ok(step) => Classified::Step(step),
            Err(e) => Classified::Throw(e),
        };
    }
    Classified::Throw(not_yieldable(y))
}

/// A continuation form or a boundary install, if `y` is one.
fn control<'py>(py: Python<'py>, reg: &Registry, y: &Bound<'py, PyAny>) -> Option<PyResult<HostStep>> {
    let ty = y.get_type();
    let is = |t: &Py<pyo3::types::PyType>| ty.is(t.bind(py));
    // Interned: these lookups run on every continuation form.
    let get = |name: &Bound<'py, pyo3::types::PyString>| y.getattr(name);
    let form = |k: &Py<PyAny>, value: &Py<PyAny>, throw: bool, transfer: bool| -> PyResult<HostStep> {
        let (k, value) = (to_value(py, k.bind(py)), to_value(py, value.bind(py)));
        Ok(if transfer { HostStep::Transfer { k, value, throw } } else { HostStep::Resume { k, value, throw } })
    };
    Some(if let Ok(r) = y.cast::<nodes::Transfer>() {
        form(&r.get().k, &r.get().value, false, true)
    } else if let Ok(r) = y.cast::<nodes::Resume>() {
        form(&r.get().k, &r.get().value, false, false)
    } else if let Ok(r) = y.cast::<nodes::ResumeThrow>() {
        form(&r.get().k, &r.get().value, true, false)
    } else if let Ok(r) = y.cast::<nodes::TransferThrow>() {
        form(&r.get().k, &r.get().value, true, true)
    } else if let Ok(p) = y.cast::<nodes::Pass>() {
        let p = p.get();
        Ok(HostStep::Pass { k: to_value(py, p.k.bind(py)), effect: Some(to_value(py, p.effect.bind(py))) })
    } else if is(&reg.new_cont) {
        (|| {
            let envelope = get(intern!(py, "envelope"))?;
            let envelope = (!envelope.is_none()).then(|| to_value(py, &envelope));
            Ok(HostStep::NewCont { func: host(get(intern!(py, "f"))?.unbind()), envelope })
        })()
    } else if is(&reg.with_handler) || is(&reg.with_intercept) || is(&reg.with_observe) {
        (|| {
            let boundary = PyBoundary::from_node(py, reg, y)?;
            // Started when the boundary is in place: nesting never recurses here.
            let body = Box::new(LazyProgram::new(get(intern!(py, "program"))?.unbind()));
            Ok(HostStep::Install(std::rc::Rc::new(boundary), body))
        })()
    } else {
        return None;
    })
}

/// A call of the standard prelude's API (`Spawn`, `Wait`, …, `scheduled`):
/// `node._kont_call()` gives the API function's index and its arguments; a
/// Python list among them becomes a kont list (SPEC.md §14.8).
fn prelude_call(py: Python<'_>, y: &Bound<'_, PyAny>) -> PyResult<HostStep> {
    let (index, args): (usize, Vec<Bound<'_, PyAny>>) = y.call_method0(intern!(py, "_kont_call"))?.extract()?;
    let f = prelude_fn(index).ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("no prelude in this run"))?;
    let args = args.iter().map(|a| prelude_arg(py, a)).collect();
    Ok(HostStep::Call(f, args))
}

/// An argument of a prelude call as kont data where it is data (a list, an
/// int, a bool, a str, `None`, and so a list's elements), so the prelude's
/// payload checks see kont values: `Cancel(["task", 1])` names task 1.
fn prelude_arg(py: Python<'_>, a: &Bound<'_, PyAny>) -> Value {
    prelude_data(py, a, 0)
}

/// Lists nested deeper than this stay host values (a list may contain itself).
const PRELUDE_ARG_DEPTH: u32 = 64;

fn prelude_data(py: Python<'_>, a: &Bound<'_, PyAny>, depth: u32) -> Value {
    if let Ok(l) = a.cast::<pyo3::types::PyList>() {
        if depth < PRELUDE_ARG_DEPTH {
            return Value::list(l.iter().map(|x| prelude_data(py, &x, depth + 1)).collect());
        }
    }
    if a.is_none() {
        return Value::Unit;
    }
    if a.is_exact_instance_of::<pyo3::types::PyString>() {
        if let Ok(s) = a.extract::<String>() {
            return Value::str(&s);
        }
    }
    // Any handle, an external promise included, is its kont data here.
    if a.is_instance(registry::get(py).handle.bind(py)).unwrap_or(false) {
        if let Some(v) = crate::value::handle_value(a) {
            return v;
        }
    }
    if let Ok(b) = a.cast::<pyo3::types::PyBool>() {
        return Value::Bool(b.is_true());
    }
    if a.is_exact_instance_of::<pyo3::types::PyInt>() {
        if let Ok(i) = a.extract::<i64>() {
            return Value::Int(i);
        }
    }
    to_value(py, a)
}

/// The `TypeError` for a yield of something that is no effect or program.
fn not_yieldable(y: &Bound<'_, PyAny>) -> PyErr {
    let tname = y.get_type().qualname().map(|n| n.to_string()).unwrap_or_default();
    let msg = if y.is_instance_of::<pyo3::types::PyFunction>() || y.hasattr("__kont_do__").unwrap_or(false) {
        format!("yield got the function {tname} itself, not a program: call it (yield f(...))")
    } else if y.get_type().is(registry::get(y.py()).generator.bind(y.py())) {
        "yield got a bare generator: decorate its function with @do and yield the call".to_string()
    } else {
        let r = y.repr().map(|r| r.to_string()).unwrap_or_default();
        format!("yield got {r} ({tname}), which is neither an effect nor a program")
    };
    pyo3::exceptions::PyTypeError::new_err(msg)
}

/// How starting Python code went.
pub enum Started<'py> {
    Frame(Box<dyn HostFrame>),
    Value(Bound<'py, PyAny>),
    Raised(PyErr),
}

/// Start a program: a `Program` (a `@do` call) runs its function; a
/// generator object (only through `run`) runs as it is.
pub fn start_program<'py>(py: Python<'py>, p: &Bound<'py, PyAny>) -> Started<'py> {
    let reg = registry::get(py);
    if p.get_type().is(reg.program.bind(py)) {
        let r = (|| -> PyResult<Bound<'py, PyAny>> {
            let f = p.getattr(intern!(py, "fn"))?;
            let args = p.getattr(intern!(py, "args"))?.cast_into::<PyTuple>()?;
            let kwargs = p.getattr(intern!(py, "kwargs"))?;
            let kwargs = kwargs.cast::<PyDict>().ok();
            f.call(args, kwargs)
        })();
        return started(py, r);
    }
    Started::Raised(pyo3::exceptions::PyTypeError::new_err(format!(
        "expected a program (a call of a @do function), got {}",
        p.repr().map(|r| r.to_string()).unwrap_or_default()
    )))
}

/// Call Python function `f` with `args` as host code.
pub fn start_call(py: Python<'_>, f: &Bound<'_, PyAny>, args: &Bound<'_, PyTuple>) -> Box<dyn HostFrame> {
    frame_of(py, started(py, f.call1(args)))
}

/// The frame for the result of calling Python code: a generator runs; a
/// program starts; anything else is the value.
pub fn started<'py>(py: Python<'py>, r: PyResult<Bound<'py, PyAny>>) -> Started<'py> {
    match r {
        Err(e) => Started::Raised(e),
        Ok(v) => {
            if v.get_type().is(registry::get(py).generator.bind(py)) {
                let gen = v.cast_into::<PyIterator>().expect("a generator is an iterator");
                return Started::Frame(Box::new(GenFrame::new(gen)));
            }
            if v.get_type().is(registry::get(py).program.bind(py)) {
                return start_program(py, &v);
            }
            Started::Value(v)
        }
    }
}

/// A program not looked at yet: its first step classifies it as if it had
/// been yielded (so a boundary's body is started inside the boundary, and
/// deeply nested boundary nodes never nest on the native stack).
pub struct LazyProgram {
    program: Option<Py<PyAny>>,
    then: Option<ControlFrame>,
}

impl LazyProgram {
    pub fn new(program: Py<PyAny>) -> LazyProgram {
        LazyProgram { program: Some(program), then: None }
    }
}

impl HostFrame for LazyProgram {
    fn resume(&mut self, input: HostInput) -> HostStep {
        if let Some(then) = &mut self.then {
            return then.resume(input);
        }
        let p = self.program.take().expect("a lazy program starts once");
        Python::attach(|py| match classify(py, p.bind(py)) {
            Classified::Step(step) => {
                let mut then = ControlFrame(Some(step));
                let first = then.resume(HostInput::Value(Value::Unit));
                self.then = Some(then);
                first
            }
            Classified::Answer(v) => HostStep::Return(to_value(py, &v)),
            Classified::Throw(e) => HostStep::Raise(host(e.into_value(py).into_any())),
        })
    }
}

/// Any start as a frame.
pub fn frame_of(py: Python<'_>, s: Started<'_>) -> Box<dyn HostFrame> {
    match s {
        Started::Frame(f) => f,
        Started::Value(v) => Box::new(DoneFrame(Some(HostStep::Return(to_value(py, &v))))),
        Started::Raised(e) => Box::new(DoneFrame(Some(HostStep::Raise(host(e.into_value(py).into_any()))))),
    }
}

/// A handler clause's start: a plain function that returned a control node
/// does that node (`return Resume(k, v)`).
pub fn clause_frame(py: Python<'_>, s: Started<'_>) -> Box<dyn HostFrame> {
    if let Started::Value(v) = &s {
        if let Some(Ok(step)) = control(py, registry::get(py), v) {
            return Box::new(ControlFrame(Some(step)));
        }
    }
    frame_of(py, s)
}
