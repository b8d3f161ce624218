"""Await on real asyncio (SPEC.md section 14.9).

Under a scheduler, ``Await(awaitable)`` parks only the awaiting task: it
waits on a promise of the scheduler that this module settles from outside
when the awaitable completes. When every task is parked, the VM's scheduler
asks the run's ``Waiter`` to wait until something completes; the other tasks
run in between. Without a scheduler the program itself waits.

``run`` waits on a private event loop made for the run. ``async_run`` runs
the program on a worker thread of the caller's loop and sends each awaitable
to that loop (``run_coroutine_threadsafe``): the awaits run on the
application's own loop, which keeps running its other tasks meanwhile.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

Settlement = Tuple[int, bool, Any]

_local = threading.local()


def current() -> "Waiter":
    """The waiter of the run going on on this thread."""
    stack = getattr(_local, "stack", None)
    if not stack:
        raise RuntimeError("Await is only meaningful inside kont.run / kont.async_run")
    return stack[-1]


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


class Waiter:
    """The awaits of one run: promise id -> what completes it."""

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop]) -> None:
        # `loop` is the application's loop (async_run); None: a private one, made on demand.
        self.app_loop = loop
        self.private: Optional[asyncio.AbstractEventLoop] = None
        self.pending: Dict[int, Any] = {}
        # What each pending promise awaits (to close a coroutine that never ran).
        self.sources: Dict[int, Any] = {}

    # ----- the run's side

    def __enter__(self) -> "Waiter":
        if not hasattr(_local, "stack"):
            _local.stack = []
        _local.stack.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _local.stack.pop()
        for f in self.pending.values():
            f.cancel()
        self.pending.clear()
        if self.private is not None:
            self.private.run_until_complete(self.private.shutdown_asyncgens())
            self.private.close()

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self.private is None:
            self.private = asyncio.new_event_loop()
        return self.private

    def register(self, promise: int, awaitable: Any) -> None:
        """The scheduler's promise ``promise`` settles when ``awaitable`` completes."""
        if isinstance(awaitable, concurrent.futures.Future):
            future: Any = awaitable
        elif self.app_loop is not None:
            future = asyncio.run_coroutine_threadsafe(_awaited(awaitable), self.app_loop)
        else:
            future = asyncio.ensure_future(_awaited(awaitable), loop=self._loop())
        self.pending[promise] = future
        self.sources[promise] = awaitable

    def forget(self, promise: int) -> None:
        """The awaiting task left (it was cancelled): stop waiting for it."""
        f = self.pending.pop(promise, None)
        source = self.sources.pop(promise, None)
        if f is not None:
            f.cancel()
        # On the private loop (not running now) a coroutine that never started is closed, quietly.
        if self.app_loop is None and asyncio.iscoroutine(source):
            source.close()

    def block_on(self, awaitable: Any) -> Any:
        """No scheduler: the whole program waits for ``awaitable``."""
        if isinstance(awaitable, concurrent.futures.Future):
            return awaitable.result()
        if self.app_loop is not None:
            return asyncio.run_coroutine_threadsafe(_awaited(awaitable), self.app_loop).result()
        return self._loop().run_until_complete(_awaited(awaitable))

    # ----- the VM's side: every task is parked

    def __call__(self) -> List[Settlement]:
        """Wait until at least one pending await completes; its settlements
        (``[]`` when nothing is pending: the scheduler then reports its deadlock)."""
        if not self.pending:
            return []
        futures = list(self.pending.values())
        if self.app_loop is not None or all(isinstance(f, concurrent.futures.Future) for f in futures):
            # Every pending one is a thread-safe future here.
            concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)
        else:
            loop = self._loop()
            waitables = [
                asyncio.wrap_future(f, loop=loop) if isinstance(f, concurrent.futures.Future) else f for f in futures
            ]
            loop.run_until_complete(asyncio.wait(waitables, return_when=asyncio.FIRST_COMPLETED))
        out: List[Settlement] = []
        for promise, f in list(self.pending.items()):
            if not f.done():
                continue
            del self.pending[promise]
            self.sources.pop(promise, None)
            if f.cancelled():
                out.append((promise, False, asyncio.CancelledError()))
            elif f.exception() is not None:
                out.append((promise, False, f.exception()))
            else:
                out.append((promise, True, f.result()))
        return out


def already_done(awaitable: Any) -> bool:
    """A future that has its result already (awaiting it would not wait)."""
    if isinstance(awaitable, concurrent.futures.Future):
        return awaitable.done() and not awaitable.cancelled()
    return asyncio.isfuture(awaitable) and awaitable.done() and not awaitable.cancelled()


def result_of(future: Any) -> Any:
    return future.result()
