"""kont: one-shot, deep effect handlers for Python generators, run on the
kont production VM (SPEC.md section 14), with doeff 0.8.0's names.

    from kont import EffectBase, do, handler, Resume, run

    class Inc(EffectBase):
        def __init__(self, n): self.n = n

    @handler
    def add_one(effect: Inc, k):
        return (yield Resume(k, effect.n + 1))

    @do
    def main():
        return (yield Inc(41))

    assert run(add_one(main())) == 42
"""

from __future__ import annotations

import asyncio
import types as _types
from typing import Any, Optional

from . import _api, _awaiting, std
from ._api import (
    PRIORITY_HIGH,
    PRIORITY_IDLE,
    PRIORITY_NORMAL,
    AcquireSemaphore,
    Await,
    Cancel,
    Delay,
    DelayFail,
    Now,
    CreateExternalPromise,
    ExternalPromise,
    CompletePromise,
    CreatePromise,
    CreateSemaphore,
    FailPromise,
    Gather,
    Handle,
    Race,
    ReleaseSemaphore,
    SchedulerDeadlockError,
    Spawn,
    TaskCancelledError,
    Wait,
    YieldTask,
    scheduled,
    Effect,
    EffectBase,
    ExhaustedError,
    KontError,
    NewCont,
    OneShotError,
    Pass,
    Program,
    Resume,
    ResumeThrow,
    StaleContinuationError,
    Transfer,
    TransferThrow,
    UnhandledEffect,
    WithHandler,
    WithIntercept,
    WithObserve,
    do,
    handler,
)
from ._kont import K, RunReport, _register, run_report

_register({**vars(_api), "GeneratorType": _types.GeneratorType})


def run(
    program: Any,
    *,
    fuel: Optional[int] = None,
    depth: Optional[int] = None,
    memory: Optional[int] = None,
    trace: bool = True,
) -> Any:
    """Run ``program`` (a call of a ``@do`` function) to its end on the VM
    and return its value.

    An uncaught exception leaves ``run`` as the original exception object,
    with kont's rendered traceback added as a note when ``trace`` is on (the
    default; ``trace=False`` runs faster and records nothing). ``fuel``
    bounds the steps of Python code, ``depth`` the nesting (frames plus
    boundaries) and ``memory`` what kont code builds (SPEC.md section 9.2);
    running out raises :class:`ExhaustedError`. ``Await``s wait
    on an event loop of the run's own.
    """
    return _finish(_report(program, fuel, depth, memory, trace, None))


async def async_run(
    program: Any,
    *,
    fuel: Optional[int] = None,
    depth: Optional[int] = None,
    memory: Optional[int] = None,
    trace: bool = True,
) -> Any:
    """``await async_run(program)`` inside a running asyncio application: the
    program runs on a worker thread, and its ``Await``s run on this loop,
    which keeps serving its other tasks meanwhile. Same result as ``run``."""
    loop = asyncio.get_running_loop()
    report = await loop.run_in_executor(None, _report, program, fuel, depth, memory, trace, loop)
    return _finish(report)


def _report(
    program: Any,
    fuel: Optional[int],
    depth: Optional[int],
    memory: Optional[int],
    trace: bool,
    loop: Optional[asyncio.AbstractEventLoop],
) -> RunReport:
    if getattr(program, "__kont_do__", None) is not None and not isinstance(program, Program):
        raise TypeError(f"run() got the @do function {program.__qualname__!r} itself, not a program: call it")
    with _awaiting.Waiter(loop) as waiter:
        return run_report(program, fuel=fuel, depth=depth, memory=memory, trace=trace, external=waiter)


def _finish(report: RunReport) -> Any:
    if report.error is not None:
        err = report.error
        if report.traceback and hasattr(err, "add_note"):
            err.add_note("kont " + report.traceback.rstrip())
        raise err
    return report.value


def run_traced(
    program: Any, *, fuel: Optional[int] = None, depth: Optional[int] = None, memory: Optional[int] = None
) -> RunReport:
    """Run ``program`` with its trace recorded; never raises for the
    program's own errors. The report has ``value``, ``error``, ``events``
    (one line per trace event, with canonical ids and ``file:line`` sites),
    ``traceback`` and ``steps``."""
    with _awaiting.Waiter(None) as waiter:
        return run_report(program, fuel=fuel, depth=depth, memory=memory, trace=True, external=waiter)


__all__ = [
    "PRIORITY_HIGH",
    "PRIORITY_IDLE",
    "PRIORITY_NORMAL",
    "AcquireSemaphore",
    "Await",
    "Cancel",
    "Delay",
    "DelayFail",
    "Now",
    "CreateExternalPromise",
    "ExternalPromise",
    "async_run",
    "CompletePromise",
    "CreatePromise",
    "CreateSemaphore",
    "FailPromise",
    "Gather",
    "Handle",
    "Race",
    "ReleaseSemaphore",
    "SchedulerDeadlockError",
    "Spawn",
    "TaskCancelledError",
    "Wait",
    "YieldTask",
    "scheduled",
    "Effect",
    "EffectBase",
    "ExhaustedError",
    "K",
    "KontError",
    "NewCont",
    "OneShotError",
    "Pass",
    "Program",
    "Resume",
    "ResumeThrow",
    "RunReport",
    "StaleContinuationError",
    "Transfer",
    "TransferThrow",
    "UnhandledEffect",
    "WithHandler",
    "WithIntercept",
    "WithObserve",
    "do",
    "handler",
    "run",
    "run_traced",
]
