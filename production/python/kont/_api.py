"""The Python face of kont: effects, programs, handlers and control nodes.

These are plain Python classes; the production VM (the ``_kont`` extension)
recognises them by exact type when a generator yields them. Everything that
decides semantics -- dispatch, capture, one-shot, reactivation -- happens in
the VM (SPEC.md section 14).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from typing import Any, Callable, Generic, Optional, Tuple, TypeVar, Union

T = TypeVar("T")


class EffectBase:
    """Base class of every effect. ``x = yield Eff(...)`` performs an instance.

    A handler annotated ``effect: Eff`` takes instances of ``Eff`` and of its
    subclasses; other handlers are skipped.
    """

    def __iter__(self) -> Any:
        # `x = yield from Eff()` performs too.
        return (yield self)

    def __repr__(self) -> str:
        # Deterministic (no address), so messages and traces are stable: `Log(text='hi')`.
        fields = getattr(self, "__dict__", None)
        if fields is None:
            names = [n for c in type(self).__mro__ for n in getattr(c, "__slots__", ()) if hasattr(self, n)]
            fields = {n: getattr(self, n) for n in names}
        inner = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        return f"{type(self).__qualname__}({inner})"


Effect = EffectBase


class Program(Generic[T]):
    """A call of a ``@do`` function, not started yet: yield it (or ``run`` it)
    to run it. Each run starts the function afresh."""

    __slots__ = ("fn", "args", "kwargs")

    def __init__(self, fn: Callable[..., Any], args: tuple = (), kwargs: Optional[dict] = None) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"<program {getattr(self.fn, '__qualname__', self.fn)!r}>"

    def __iter__(self) -> Any:
        return (yield self)


# The continuation forms are native classes (one is built per handled effect).
from ._kont import Pass, Resume, ResumeThrow, Transfer, TransferThrow  # noqa: E402


class NewCont:
    """``k = yield NewCont(f)``: an unstarted continuation; its first resume
    calls ``f(value)`` (a ``@do`` or plain function of one argument). With
    ``envelope=k0`` it starts under fresh copies of ``k0``'s handlers,
    interceptors and observers (kont's ``new-cont``)."""

    __slots__ = ("f", "envelope")

    def __init__(self, f: Callable[[Any], Any], envelope: Optional["K"] = None) -> None:
        if not callable(f):
            raise TypeError(f"NewCont needs a function of one argument, got {type(f).__name__}")
        self.f = f
        self.envelope = envelope


class WithHandler:
    """Run ``program`` under handler ``handler(effect, k)``.

    ``handler`` is a ``@handler``/``@do`` generator function or a plain
    function; its ``effect`` annotation (a class, a tuple or a union) says
    which effects it takes. It runs outside its own boundary, so effects it
    yields go further out.
    """

    __slots__ = ("handler", "program", "types", "name", "fn")

    def __init__(self, handler: Callable[..., Any], program: Any) -> None:
        fn = getattr(handler, "__kont_handler__", handler)
        if not callable(fn):
            raise TypeError(f"WithHandler needs a handler function (effect, k), got {type(handler).__name__}")
        self.handler = handler
        self.program = program
        self.fn = fn
        self.types = _handler_types(fn)
        self.name = getattr(handler, "__qualname__", type(handler).__name__)


class WithIntercept:
    """Run ``program`` with interceptor ``f``: each effect of one of
    ``types`` (every effect when ``types`` is None) that reaches it is
    replaced by what ``f(effect)`` returns (``f`` plain or ``@do``; it may
    perform effects, which go further out)."""

    __slots__ = ("f", "program", "types", "name")

    def __init__(self, f: Callable[[Any], Any], program: Any, types: Any = None) -> None:
        if not callable(f):
            raise TypeError(f"WithIntercept needs a function, got {type(f).__name__}")
        self.f = f
        self.program = program
        self.types = _as_types(types, "WithIntercept")
        self.name = "intercept"


class WithObserve:
    """Run ``program`` with observer ``f``: ``f(effect)`` sees each effect
    that reaches it; its result is ignored and the effect goes on."""

    __slots__ = ("f", "program", "types", "name")

    def __init__(self, f: Callable[[Any], Any], program: Any, types: Any = None) -> None:
        if not callable(f):
            raise TypeError(f"WithObserve needs a function, got {type(f).__name__}")
        self.f = f
        self.program = program
        self.types = _as_types(types, "WithObserve")
        self.name = "observe"


def do(fn: Callable[..., Any]) -> Callable[..., Program[Any]]:
    """Make ``fn`` (a generator function, or a plain one) a program factory:
    ``fn(*args)`` returns a :class:`Program`, run when yielded or passed to
    ``run``. ``async def`` functions are refused."""
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"@do cannot take the async function {fn.__qualname__!r}: yield Await(...) instead")
    if not callable(fn):
        raise TypeError(f"@do needs a function, got {type(fn).__name__}")
    raw = getattr(fn, "__kont_do__", fn)

    @functools.wraps(fn)
    def factory(*args: Any, **kwargs: Any) -> Program[Any]:
        return Program(raw, args, kwargs or None)

    factory.__kont_do__ = raw  # type: ignore[attr-defined]
    factory.__kont_handler__ = raw  # type: ignore[attr-defined]
    return factory


def handler(fn: Callable[..., Any]) -> Callable[[Any], WithHandler]:
    """Make ``def h(effect: Eff, k)`` a handler installer: ``h(program)`` is
    ``WithHandler(h, program)``. Refuses lambdas, callable objects, functions
    with fewer than two positional parameters and annotations no effect can
    have, at decoration."""
    raw = getattr(fn, "__kont_do__", fn)
    if not isinstance(raw, (types.FunctionType, types.MethodType, functools.partial)):
        raise TypeError(f"@handler needs a def (effect, k), got {type(fn).__name__}")
    if getattr(raw, "__name__", "") == "<lambda>":
        raise TypeError("@handler needs a def (effect, k), not a lambda")
    params = [
        p
        for p in inspect.signature(raw).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(params) < 2:
        raise TypeError(f"handler {raw.__qualname__!r} must take (effect, k): it has {len(params)} positional parameters")
    _handler_types(raw)  # a bad annotation is an error now, not at the first effect

    def install(program: Any) -> WithHandler:
        return WithHandler(install, program)

    functools.update_wrapper(install, raw)
    install.__kont_handler__ = raw  # type: ignore[attr-defined]
    install.__kont_do__ = raw  # type: ignore[attr-defined]
    return install


_NOT_EFFECT_TYPES = (int, str, float, bytes, bool, dict, list, tuple, set, frozenset, BaseException, type(None))


def _handler_types(fn: Callable[..., Any]) -> Optional[Tuple[type, ...]]:
    """The effect types a handler takes, from its first parameter's
    annotation; None means every effect."""
    cached = getattr(fn, "__kont_types__", _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[no-any-return]
    target = getattr(fn, "func", fn)  # functools.partial
    try:
        # The signature of a partial or bound method leaves out what is already bound.
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if not params:
        return None
    ann = params[0].annotation
    if ann is inspect.Parameter.empty:
        result = None
    else:
        if isinstance(ann, str):
            try:
                # Twice at most: `effect: "A"` under `from __future__ import annotations` is "'A'".
                for _ in range(2):
                    if isinstance(ann, str):
                        ann = eval(ann, getattr(target, "__globals__", {}))  # noqa: S307 -- its own annotation
            except Exception:
                ann = None
        result = _as_types(ann, f"handler {getattr(fn, '__qualname__', fn)!r}")
    try:
        fn.__kont_types__ = result  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass
    return result


_MISSING = object()


def _as_types(ann: Any, who: str) -> Optional[Tuple[type, ...]]:
    """A class, tuple or union of effect classes as a tuple; None for "every effect"."""
    if ann is None or ann is Any or ann is object or ann is EffectBase:
        return None
    origin = typing.get_origin(ann)
    if origin is Union or (hasattr(types, "UnionType") and isinstance(ann, getattr(types, "UnionType"))):
        members = typing.get_args(ann)
    elif isinstance(ann, tuple):
        members = ann
    elif origin is typing.Annotated:
        return _as_types(typing.get_args(ann)[0], who)
    elif origin is not None and isinstance(origin, type):
        members = (origin,)
    else:
        members = (ann,)
    out = []
    for m in members:
        if m is Any or m is object or m is EffectBase:
            return None
        if not isinstance(m, type):
            return None  # a TypeVar, Protocol or Literal: no filter
        if issubclass(m, _NOT_EFFECT_TYPES):
            raise TypeError(f"{who}: no effect can be a {m.__qualname__}")
        out.append(m)
    return tuple(out)


class KontError(RuntimeError):
    """A kont runtime error raised into Python code (SPEC.md section 14.2):
    ``tag`` is kont's error tag, ``payload`` its payload."""

    def __init__(self, tag: str, payload: Any = None, message: Optional[str] = None) -> None:
        super().__init__(message or f"{tag}: {payload!r}")
        self.tag = tag
        self.payload = payload


class UnhandledEffect(KontError):
    """No handler took ``effect``; raised at the ``yield`` that performed it."""

    def __init__(self, effect: Any) -> None:
        super().__init__("unhandled", effect, f"unhandled effect: {type(effect).__qualname__} ({effect!r})")
        self.effect = effect


class OneShotError(KontError):
    """A continuation was used a second time (at the second use)."""

    def __init__(self, k: Any) -> None:
        super().__init__("one-shot", k, f"continuation {k!r} was already used (continuations are one-shot)")
        self.k = k


class StaleContinuationError(KontError):
    """A continuation of another run (or another thread) was used."""

    def __init__(self, k: Any) -> None:
        super().__init__("stale", k, f"continuation {k!r} belongs to another run")
        self.k = k


class ExhaustedError(RuntimeError):
    """The run ran out of ``resource`` (``"fuel"``, ``"memory"`` or ``"depth"``); it ends the run."""

    def __init__(self, resource: str) -> None:
        super().__init__(f"kont run exhausted its {resource}")
        self.resource = resource


class TaskCancelledError(KontError):
    """Raised into a cancelled task at its suspension point (its ``finally``
    blocks run), and to whoever waits for it."""

    def __init__(self, task: Any) -> None:
        super().__init__("cancelled", task, f"task {task!r} was cancelled")
        self.task = task


class SchedulerDeadlockError(KontError):
    """Every task is parked and nothing can wake them; the message names them."""

    def __init__(self, message: Any) -> None:
        super().__init__("deadlock", message, f"scheduler deadlock: {message}")


def _error_from_kont(tag: str, payload: Any) -> BaseException:
    """The Python exception for kont error value ``(error tag payload)``."""
    if tag == "cancelled":
        return TaskCancelledError(payload)
    if tag == "deadlock":
        return SchedulerDeadlockError(payload)
    if tag == "unhandled":
        return UnhandledEffect(payload)
    if tag == "one-shot":
        return OneShotError(payload)
    if tag == "stale":
        return StaleContinuationError(payload)
    return KontError(tag, payload)


# ----- tasks: the standard prelude's scheduler (SPEC.md section 13), natively run

PRIORITY_IDLE = 0
PRIORITY_NORMAL = 10
PRIORITY_HIGH = 20


class Handle:
    """A task, promise or semaphore of the running scheduler: ``Task(3)``."""


    __slots__ = ("kind", "id")

    def __init__(self, kind: str, id: int) -> None:
        self.kind = kind
        self.id = id

    def __repr__(self) -> str:
        return f"{self.kind.capitalize()}({self.id})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Handle) and (self.kind, self.id) == (other.kind, other.id)

    def __hash__(self) -> int:
        return hash((self.kind, self.id))


# The prelude functions a run's driver hands over, in `kont_vm::host::PRELUDE_API` order.
_RUN_SCHEDULED, _SPAWN_AT, _WAIT, _GATHER, _RACE, _CANCEL, _YIELD = range(7)
_NEW_PROMISE, _COMPLETE, _FAIL, _NEW_SEMAPHORE, _ACQUIRE, _RELEASE = range(7, 13)
_VIRTUAL_AWAIT, _NOW, _VIRTUAL_AWAIT_FAIL = range(13, 16)


class PreludeCall:
    """A call of the standard prelude's API; yield it. ``_kont_call`` gives the
    function's index and its arguments (a Python list is passed as a kont list)."""

    __slots__ = ()

    def _kont_call(self) -> Tuple[int, list]:
        raise NotImplementedError


def _starter(program: Any) -> Callable[[Any], Any]:
    """The task body the prelude calls (with `unit`): it runs `program`."""
    if isinstance(program, Program):
        return lambda _unit: program
    if not isinstance(program, (WithHandler, WithIntercept, WithObserve, PreludeCall)):
        raise TypeError(f"expected a program (a call of a @do function), got {program!r}")
    return lambda _unit: _run_node(program)


def _yield_node(node: Any) -> Any:
    return (yield node)


class Scheduled(PreludeCall):
    """``scheduled(program)``: run ``program`` as the root task of a scheduler."""

    __slots__ = ("program",)

    def __init__(self, program: Any) -> None:
        self.program = program

    def _kont_call(self) -> Tuple[int, list]:
        return _RUN_SCHEDULED, [_starter(self.program)]


def scheduled(program: Any) -> Scheduled:
    """Install the scheduler around ``program`` (its root task); the value is
    the root's. Served by the VM's native scheduler, the standard prelude's."""
    return Scheduled(program)


class Spawn(PreludeCall):
    """``task = yield Spawn(program, priority=PRIORITY_NORMAL)``: a new task
    running ``program`` under fresh copies of the handlers, interceptors and
    observers between here and the scheduler."""

    __slots__ = ("program", "priority")

    def __init__(self, program: Any, priority: int = PRIORITY_NORMAL) -> None:
        self.program = program
        self.priority = priority

    def _kont_call(self) -> Tuple[int, list]:
        return _SPAWN_AT, [_starter(self.program), self.priority]


class Wait(PreludeCall):
    """``v = yield Wait(task_or_promise)``: its value, or its exception raised here."""

    __slots__ = ("handle",)

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    def _kont_call(self) -> Tuple[int, list]:
        return _WAIT, [self.handle]


class Gather(PreludeCall):
    """``vs = yield Gather(*handles)``: every value, in the given order; the
    first failure is raised at once (fail-fast)."""

    __slots__ = ("handles",)

    def __init__(self, *handles: Handle) -> None:
        self.handles = list(handles)

    def _kont_call(self) -> Tuple[int, list]:
        return _GATHER, [list(self.handles)]


class Race(PreludeCall):
    """``v = yield Race(*handles)``: the first to settle, value or exception."""

    __slots__ = ("handles",)

    def __init__(self, *handles: Handle) -> None:
        self.handles = list(handles)

    def _kont_call(self) -> Tuple[int, list]:
        return _RACE, [list(self.handles)]


class Cancel(PreludeCall):
    """``yield Cancel(task)``: raise ``TaskCancelledError`` into the task at its suspension point."""

    __slots__ = ("task",)

    def __init__(self, task: Handle) -> None:
        self.task = task

    def _kont_call(self) -> Tuple[int, list]:
        return _CANCEL, [self.task]


class CreatePromise(PreludeCall):
    """``p = yield CreatePromise()``: a promise to complete or fail later."""

    __slots__ = ()

    def _kont_call(self) -> Tuple[int, list]:
        return _NEW_PROMISE, []


class CompletePromise(PreludeCall):
    """``yield CompletePromise(p, v)``: settle ``p`` with ``v``; its waiters wake."""

    __slots__ = ("promise", "value")

    def __init__(self, promise: Handle, value: Any) -> None:
        self.promise = promise
        self.value = value

    def _kont_call(self) -> Tuple[int, list]:
        return _COMPLETE, [self.promise, self.value]


class FailPromise(PreludeCall):
    """``yield FailPromise(p, exc)``: settle ``p`` with an exception."""

    __slots__ = ("promise", "error")

    def __init__(self, promise: Handle, error: BaseException) -> None:
        self.promise = promise
        self.error = error

    def _kont_call(self) -> Tuple[int, list]:
        return _FAIL, [self.promise, self.error]


class CreateSemaphore(PreludeCall):
    """``s = yield CreateSemaphore(permits)``: a FIFO semaphore."""

    __slots__ = ("permits",)

    def __init__(self, permits: int = 1) -> None:
        self.permits = permits

    def _kont_call(self) -> Tuple[int, list]:
        return _NEW_SEMAPHORE, [self.permits]


class AcquireSemaphore(PreludeCall):
    """``yield AcquireSemaphore(s)``: take a permit, waiting in FIFO order."""

    __slots__ = ("semaphore",)

    def __init__(self, semaphore: Handle) -> None:
        self.semaphore = semaphore

    def _kont_call(self) -> Tuple[int, list]:
        return _ACQUIRE, [self.semaphore]


class ReleaseSemaphore(PreludeCall):
    """``yield ReleaseSemaphore(s)``: give a permit back (over-release is an error)."""

    __slots__ = ("semaphore",)

    def __init__(self, semaphore: Handle) -> None:
        self.semaphore = semaphore

    def _kont_call(self) -> Tuple[int, list]:
        return _RELEASE, [self.semaphore]


class Delay(PreludeCall):
    """``v = yield Delay(ticks, value=None)``: wait ``ticks`` ticks of the
    scheduler's **virtual** clock, then get ``value`` (the prelude's
    ``await``: deterministic, for tests; real time is :func:`Await`)."""

    __slots__ = ("ticks", "value")

    def __init__(self, ticks: int, value: Any = None) -> None:
        self.ticks = ticks
        self.value = value

    def _kont_call(self) -> Tuple[int, list]:
        return _VIRTUAL_AWAIT, [self.ticks, self.value]


class DelayFail(PreludeCall):
    """``yield DelayFail(ticks, error)``: wait ``ticks`` ticks of the
    scheduler's **virtual** clock, then raise ``error`` (an exception) at the
    yield (the prelude's ``await-fail``: a deterministic failing wait, for
    tests of timeouts and retries)."""

    __slots__ = ("ticks", "error")

    def __init__(self, ticks: int, error: BaseException) -> None:
        self.ticks = ticks
        self.error = error

    def _kont_call(self) -> Tuple[int, list]:
        return _VIRTUAL_AWAIT_FAIL, [self.ticks, self.error]


class Now(PreludeCall):
    """``t = yield Now()``: the scheduler's virtual clock (ticks)."""

    __slots__ = ()

    def _kont_call(self) -> Tuple[int, list]:
        return _NOW, []


class YieldTask(PreludeCall):
    """``yield YieldTask()``: let the other ready tasks run first."""

    __slots__ = ()

    def _kont_call(self) -> Tuple[int, list]:
        return _YIELD, []


# ----- Await on real asyncio (SPEC.md section 14.9)


@do
def Await(awaitable: Any):
    """``v = yield Await(awaitable)``: the awaitable's result (a coroutine, an
    asyncio future or task, or a ``concurrent.futures.Future``). Under a
    scheduler only this task waits and the others run; without one the
    program waits. Its exception is raised here."""
    from . import _awaiting

    waiter = _awaiting.current()
    if _awaiting.already_done(awaitable):
        # Nothing to wait for: the result (or its exception) at once.
        return _awaiting.result_of(awaitable)
    try:
        p = yield CreatePromise()
    except UnhandledEffect:
        # No scheduler: the whole program waits.
        return waiter.block_on(awaitable)
    waiter.register(p.id, awaitable)
    try:
        return (yield Wait(p))
    finally:
        waiter.forget(p.id)


class ExternalPromise(Handle):
    """A promise settled from outside the run: ``complete``/``fail`` may be
    called from any thread or an asyncio callback. ``yield Wait(p)`` waits."""

    __slots__ = ("_future",)

    def __init__(self, id: int, future: "concurrent.futures.Future[Any]") -> None:
        super().__init__("promise", id)
        self._future = future

    def complete(self, value: Any) -> None:
        self._future.set_result(value)

    def fail(self, error: BaseException) -> None:
        self._future.set_exception(error)


@do
def CreateExternalPromise():
    """``p = yield CreateExternalPromise()``: an :class:`ExternalPromise` (needs a scheduler)."""
    import concurrent.futures

    from . import _awaiting

    p = yield CreatePromise()
    future: "concurrent.futures.Future[Any]" = concurrent.futures.Future()
    _awaiting.current().register(p.id, future)
    return ExternalPromise(p.id, future)


_run_node = do(_yield_node)
