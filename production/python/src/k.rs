//! `K`: a continuation as a Python object. It holds the VM's own
//! continuation (the suspended computation), usable only on the thread whose
//! run made it: elsewhere it is a stale continuation (SPEC.md §14.1).

use std::mem::ManuallyDrop;
use std::rc::Rc;

use kont_vm::Continuation;
use pyo3::prelude::*;

/// A value touched only on the thread that made it.
pub struct ThreadBound<T> {
    owner: usize,
    value: ManuallyDrop<T>,
}

// SAFETY: `value` is only read through `get`, which checks that the caller is
// the thread that made it (by the address of a thread-local: no two live
// threads share one, so only that thread, or a later thread reusing the
// address after it has exited, passes), and only dropped after the same
// check (`Drop` leaks it elsewhere). Every `Rc` clone inside was made on that
// thread, so no two live threads ever touch it or its count.
// Exercised by tests/test_threads.py (a K used and dropped on another thread).
unsafe impl<T> Send for ThreadBound<T> {}
// SAFETY: as above: shared references never reach `value` off its thread.
unsafe impl<T> Sync for ThreadBound<T> {}

thread_local! {
    /// Its address names the thread (unique among live threads; one TLS read).
    static HERE: u8 = const { 0 };
}

fn this_thread() -> usize {
    HERE.with(|h| h as *const u8 as usize)
}

impl<T> ThreadBound<T> {
    pub fn new(value: T) -> Self {
        ThreadBound { owner: this_thread(), value: ManuallyDrop::new(value) }
    }

    /// The value, on its own thread.
    pub fn get(&self) -> Option<&T> {
        (this_thread() == self.owner).then_some(&*self.value)
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if this_thread() == self.owner {
            // SAFETY: dropped once, here, on its own thread; never used again.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        }
        // On another thread it is leaked: touching it there would race.
    }
}

/// A one-shot continuation: a suspended computation with its handlers,
/// interceptors and observers. Resume it with `Resume`/`Transfer`/the throw
/// forms; `live` says whether it can still be used. Not constructible.
#[pyclass(module = "kont", name = "K", frozen)]
pub struct K {
    pub cont: ThreadBound<Rc<Continuation>>,
    pub id: u32,
    /// Its run: with `id`, what makes two `K`s the same continuation.
    pub run: u64,
}

#[pymethods]
impl K {
    /// Whether the continuation can still be used in its run (not consumed,
    /// and on its own thread).
    #[getter]
    fn live(&self) -> bool {
        self.cont.get().is_some_and(|c| c.is_live() && !c.run_ended())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<K>().is_ok_and(|o| o.get().id == self.id && o.get().run == self.run)
    }

    fn __hash__(&self) -> u64 {
        self.run.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(self.id)
    }

    /// Its canonical id in its run (`k3` in traces).
    #[getter]
    fn id(&self) -> u32 {
        self.id
    }

    fn __repr__(&self) -> String {
        if self.live() {
            format!("K(k{})", self.id)
        } else {
            format!("K(k{}, used)", self.id)
        }
    }
}
