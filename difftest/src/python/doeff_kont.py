# kont difftest, engine `doeff`: the part of kont's Python API (SPEC.md
# section 14) that the translated programs use, written on doeff 0.8.0, as a
# module named `kont` (so the runtime and the translations run unchanged).
# What doeff lacks (WithIntercept, NewCont, observers that run programs, the
# virtual clock) the translator refuses before a program gets here.
import gc
import sys
import types
import warnings

import doeff
from doeff import EffectBase, K, Pass, PyVM, Resume, ResumeThrow, Transfer, TransferThrow
from doeff import UnhandledEffect

warnings.simplefilter("ignore")  # doeff's non-tail Resume warnings are not the program's

_kont = types.ModuleType("kont")


class KontError(RuntimeError):
    """kont's error value class, here a plain exception (doeff has none)."""

    def __init__(self, tag, payload=None, message=None):
        super().__init__(message or tag)
        self.tag = tag
        self.payload = payload


class ExhaustedError(RuntimeError):
    """Never raised: doeff has no fuel (runs are bounded by the worker's timeout)."""

    def __init__(self, resource):
        super().__init__(resource)
        self.resource = resource


class _Shown:
    """A payload known only by its text (doeff's messages)."""

    def __init__(self, text):
        self.kont_shown = text

    def __repr__(self):
        return self.kont_shown


def _unhandled_payload(e):
    """doeff's UnhandledEffect names the effect by `Type (repr)` in its message;
    the repr of a translated effect is kont's `(effect L v)`."""
    msg = str(e)
    i = msg.find(" (")
    if i < 0:
        return _Shown(msg)
    depth, j = 0, i + 1
    while j < len(msg):
        depth += {"(": 1, ")": -1}.get(msg[j], 0)
        if depth == 0:
            return _Shown(msg[i + 2:j])
        j += 1
    return _Shown(msg)


# A `catch` catches doeff's UnhandledEffect too, as kont's `unhandled` error (§11.10).
UnhandledEffect.tag = property(lambda self: "unhandled")
UnhandledEffect.payload = property(_unhandled_payload)

_DO = {}


def Program(fn, args=()):
    """kont's Program(fn, args): doeff's call of `do(fn)`."""
    f = getattr(fn, "_doeff_do", None)
    if f is None:
        f = doeff.do(fn)
        try:
            fn._doeff_do = f
        except AttributeError:
            f = _DO.setdefault(fn, f)
    return f(*args)


def WithHandler(h, program):
    """kont's WithHandler(h, program): doeff's @handler installer (its
    annotation is the handler's filter in both)."""
    return doeff.handler(h)(program)


def _refused(name):
    def refused(*a, **kw):
        raise RuntimeError("%s: not on doeff (the translator refuses such programs)" % name)

    return refused


class _Report:
    __slots__ = ("value", "error", "events", "steps")


def run_report(program, fuel=None, depth=None, trace=False):
    rep = _Report()
    rep.value, rep.error, rep.events, rep.steps = None, None, [], 0
    try:
        rep.value = PyVM().run(program)
    except BaseException as e:  # noqa: BLE001 - every outcome is the program's
        rep.error = e
    # doeff closes abandoned generators when the last reference dies (§11.4):
    # collect now, while the run is over, so a later run never sees their cleanups.
    gc.collect()
    return rep


class Handle:
    """Never made on doeff (the scheduler's handles are doeff's own classes)."""


_kont.EffectBase = EffectBase
_kont.KontError = KontError
_kont.ExhaustedError = ExhaustedError
_kont.K = K
_kont.Pass = Pass
_kont.Resume = Resume
_kont.ResumeThrow = ResumeThrow
_kont.Transfer = Transfer
_kont.TransferThrow = TransferThrow
_kont.Program = Program
_kont.WithHandler = WithHandler
_kont.Handle = Handle
_kont.run_report = run_report
_kont.k_id = lambda k: None  # doeff's K has no canonical id (§11.11)
_kont.k_live = lambda k: repr(k) != "K(consumed)"
_kont.node_k = lambda node: node.continuation
_kont.node_value = lambda node: node.value if hasattr(node, "value") else node.exception
_kont.CAUGHT = (KontError, UnhandledEffect)
for _name in ("NewCont", "WithIntercept", "WithObserve", "scheduled", "Spawn", "Wait", "Gather", "Race",
              "Cancel", "YieldTask", "CreatePromise", "CompletePromise", "FailPromise", "CreateSemaphore",
              "AcquireSemaphore", "ReleaseSemaphore", "Delay", "DelayFail", "Now"):
    setattr(_kont, _name, _refused(_name))
sys.modules["kont"] = _kont
