"""Await on real asyncio, async_run inside an application, external promises
(SPEC.md §14.9)."""

from __future__ import annotations

import asyncio
import threading

import pytest

import kont
from kont import (
    AcquireSemaphore,
    Await,
    Cancel,
    CreateExternalPromise,
    CreateSemaphore,
    EffectBase,
    Gather,
    ReleaseSemaphore,
    Resume,
    Spawn,
    TaskCancelledError,
    Wait,
    WithIntercept,
    WithObserve,
    YieldTask,
    async_run,
    do,
    handler,
    run,
    scheduled,
)
from kont.std import CacheGet, CachePut, cache


class Emit(EffectBase):
    def __init__(self, text):
        self.text = text


def emitter(out):
    @handler
    def emit(effect: Emit, k):
        out.append(effect.text)
        return (yield Resume(k, None))

    return emit


def test_a_task_awaiting_a_coroutine_still_reaches_the_outer_cache_and_boundaries():
    observed, intercepted = [], []

    def spy(effect):
        intercepted.append(type(effect).__name__)
        return effect

    @do
    def worker(i):
        v = yield Await(asyncio.sleep(0.002 * (3 - i), result=i))
        yield CachePut(f"k{i}", v * 10)
        return (yield CacheGet(f"k{i}"))

    @do
    def main():
        ts = []
        for i in range(3):
            ts.append((yield Spawn(worker(i))))
        return (yield Gather(*ts))

    program = cache()(
        WithObserve(lambda e: observed.append(type(e).__name__), WithIntercept(spy, scheduled(main())))
    )
    assert run(program) == [0, 10, 20]
    # After every await, each task's cache effects still went through the
    # interceptor and the observer installed outside the scheduler.
    assert intercepted.count("CachePut") == 3 and intercepted.count("CacheGet") == 3
    assert observed.count("CachePut") == 3 and observed.count("CacheGet") == 3


def test_awaits_overlap_under_the_scheduler():
    # Only the awaiting task waits: every task starts its await before any
    # await completes (no timing involved).
    log = []

    @do
    def sleeper(i):
        log.append(f"start {i}")
        yield Await(asyncio.sleep(0.001))
        log.append(f"end {i}")
        return i

    @do
    def main():
        ts = []
        for i in range(10):
            ts.append((yield Spawn(sleeper(i))))
        return (yield Gather(*ts))

    assert run(scheduled(main())) == list(range(10))
    first_end = min(i for i, e in enumerate(log) if e.startswith("end"))
    assert sorted(log[:first_end]) == sorted(f"start {i}" for i in range(10))


def _semaphore_workers(out, peak_box):
    active = [0]

    @do
    def worker(sem, i):
        yield AcquireSemaphore(sem)
        try:
            active[0] += 1
            peak_box[0] = max(peak_box[0], active[0])
            yield Emit(f"start {i}")
            yield Await(asyncio.sleep(0.001))
            return i
        finally:
            active[0] -= 1
            yield ReleaseSemaphore(sem)

    @do
    def main():
        sem = yield CreateSemaphore(5)
        ts = []
        for i in range(20):
            ts.append((yield Spawn(worker(sem, i))))
        return (yield Gather(*ts))

    return main()


def test_twenty_workers_on_a_semaphore_of_five_awaiting_inside():
    out, peak = [], [0]
    assert run(emitter(out)(scheduled(_semaphore_workers(out, peak)))) == list(range(20))
    assert 1 <= peak[0] <= 5  # never over the permits
    assert out == [f"start {i}" for i in range(20)]  # FIFO


def test_twenty_workers_with_observer_cache_interceptor_around_the_scheduler():
    out, peak, seen = [], [0], []
    program = emitter(out)(
        WithObserve(
            lambda e: seen.append(type(e).__name__),
            cache()(WithIntercept(lambda e: e, scheduled(_semaphore_workers(out, peak)))),
        )
    )
    assert run(program) == list(range(20))
    assert 1 <= peak[0] <= 5
    assert seen.count("Emit") == 20


def test_cancel_while_parked_on_an_await_runs_finally_and_cancels_the_awaitable():
    log = []
    started = asyncio.Event  # noqa: F841 (documentation)

    async def long_sleep():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append("awaitable cancelled")
            raise

    @do
    def victim():
        try:
            yield Await(long_sleep())
        finally:
            log.append("finally ran")

    @do
    def main():
        t = yield Spawn(victim())
        yield YieldTask()  # the victim parks on its await
        yield Cancel(t)
        try:
            yield Wait(t)
        except TaskCancelledError:
            log.append("waiter got the cancellation")
        return "done"

    assert run(scheduled(main())) == "done"
    assert log[:2] == ["finally ran", "waiter got the cancellation"]


def test_an_awaited_exception_is_raised_at_the_await():
    async def boom():
        raise KeyError("from asyncio")

    @do
    def main():
        try:
            yield Await(boom())
        except KeyError as e:
            return f"caught {e}"

    assert run(scheduled(main())) == "caught 'from asyncio'"
    assert run(main()) == "caught 'from asyncio'"  # without a scheduler too


def test_without_a_scheduler_the_program_waits():
    @do
    def main():
        a = yield Await(asyncio.sleep(0.001, result=1))
        b = yield Await(asyncio.sleep(0.001, result=2))
        return a + b

    assert run(main()) == 3


def test_async_run_inside_a_running_application():
    async def app():
        ticks = []

        async def ticker():
            for _ in range(5):
                ticks.append(asyncio.get_running_loop())
                await asyncio.sleep(0.005)

        @do
        def worker():
            # This coroutine runs on the application's loop, not a second one.
            async def where():
                await asyncio.sleep(0.03)
                return asyncio.get_running_loop()

            return (yield Await(where()))

        @do
        def main():
            t = yield Spawn(worker())
            return (yield Wait(t))

        loop = asyncio.get_running_loop()
        ticking = asyncio.create_task(ticker())
        ran_on = await async_run(scheduled(main()))
        await ticking
        return ran_on is loop, len(ticks), all(t is loop for t in ticks)

    assert asyncio.run(app()) == (True, 5, True)


def test_an_external_promise_completed_from_a_thread():
    @do
    def main():
        p = yield CreateExternalPromise()
        threading.Timer(0.01, lambda: p.complete("from a thread")).start()
        return (yield Wait(p))

    assert run(scheduled(main())) == "from a thread"


def test_an_external_promise_failed_from_an_asyncio_callback():
    async def app():
        loop = asyncio.get_running_loop()

        @do
        def main():
            p = yield CreateExternalPromise()
            loop.call_later(0.01, p.fail, ValueError("from a callback"))
            try:
                yield Wait(p)
            except ValueError as e:
                return str(e)

        return await async_run(scheduled(main()))

    assert asyncio.run(app()) == "from a callback"


def test_nothing_left_to_wait_for_is_a_deadlock():
    @do
    def main():
        p = yield CreateExternalPromise()
        del p  # nobody will complete it... but it is still pending outside
        return "unreachable"

    # A pending external promise is not a deadlock: only a wait with nothing pending is.
    assert run(scheduled(main())) == "unreachable"

    @do
    def stuck():
        p = yield kont.CreatePromise()
        return (yield Wait(p))

    with pytest.raises(kont.SchedulerDeadlockError):
        run(scheduled(stuck()))
