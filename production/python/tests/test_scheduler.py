"""Tasks on the VM's native scheduler (the standard prelude's, SPEC.md §13),
from Python: spawn, wait, gather, race, cancel, promises, semaphores, and
handlers/interceptors outside the scheduler staying visible to tasks."""

from __future__ import annotations

import pytest

import kont
from kont import (
    AcquireSemaphore,
    Cancel,
    CompletePromise,
    CreatePromise,
    CreateSemaphore,
    EffectBase,
    FailPromise,
    Gather,
    Race,
    ReleaseSemaphore,
    Resume,
    SchedulerDeadlockError,
    Spawn,
    TaskCancelledError,
    Wait,
    WithIntercept,
    WithObserve,
    YieldTask,
    do,
    handler,
    run,
    scheduled,
)


class Log(EffectBase):
    def __init__(self, text):
        self.text = text


class CachePut(EffectBase):
    def __init__(self, key, value):
        self.key = key
        self.value = value


class CacheGet(EffectBase):
    def __init__(self, key):
        self.key = key


def logger(out):
    @handler
    def log(effect: Log, k):
        out.append(effect.text)
        return (yield Resume(k, None))

    return log


def cache():
    store = {}

    @handler
    def handle(effect: CachePut | CacheGet, k):
        if isinstance(effect, CachePut):
            store[effect.key] = effect.value
            return (yield Resume(k, None))
        return (yield Resume(k, store[effect.key]))

    return handle


@do
def const(v):
    return v


@do
def fails(msg):
    raise ValueError(msg)
    yield


def test_gather_returns_values_in_spawn_order():
    @do
    def child(i):
        for _ in range(3 - i):  # later children finish first
            yield YieldTask()
        return i * 10

    @do
    def main():
        ts = []
        for i in range(3):
            ts.append((yield Spawn(child(i))))
        return (yield Gather(*ts))

    assert run(scheduled(main())) == [0, 10, 20]


def test_task_handles_print_like_doeffs():
    @do
    def main():
        t = yield Spawn(const(1))
        p = yield CreatePromise()
        s = yield CreateSemaphore(2)
        return repr(t), repr(p), repr(s)

    assert run(scheduled(main())) == ("Task(1)", "Promise(0)", "Semaphore(0)")


def test_a_task_reaches_the_outer_cache_after_a_task_switch():
    # The seed's failure: after the task was parked and resumed, its
    # CachePut/CacheGet must still reach the cache installed outside.
    seen = []

    def observe(effect):
        seen.append(type(effect).__name__)

    @do
    def worker(i):
        yield YieldTask()  # parked; another task runs; resumed by the scheduler
        yield CachePut(f"k{i}", i)
        yield YieldTask()
        return (yield CacheGet(f"k{i}"))

    @do
    def main():
        ts = []
        for i in range(3):
            ts.append((yield Spawn(worker(i))))
        return (yield Gather(*ts))

    result = run(cache()(WithObserve(observe, WithIntercept(lambda e: e, scheduled(main())))))
    assert result == [0, 1, 2]
    # The observer outside the scheduler saw every task's cache effects, after the switches.
    assert seen.count("CachePut") == 3 and seen.count("CacheGet") == 3


def _semaphore_program(out, workers=20, permits=5):
    active = [0]
    peak = [0]

    @do
    def worker(sem, go, i):
        yield AcquireSemaphore(sem)
        try:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            yield Log(f"start {i}")
            yield Wait(go)  # parked holding a permit until the root says go
            return i
        finally:
            active[0] -= 1
            yield ReleaseSemaphore(sem)

    @do
    def main():
        sem = yield CreateSemaphore(permits)
        go = yield CreatePromise()
        ts = []
        for i in range(workers):
            ts.append((yield Spawn(worker(sem, go, i))))
        for _ in range(workers):
            yield YieldTask()  # let every worker reach the semaphore
        yield CompletePromise(go, None)
        values = yield Gather(*ts)
        return values, peak[0]

    return main()


def test_twenty_workers_on_a_semaphore_of_five():
    out = []
    values, peak = run(logger(out)(scheduled(_semaphore_program(out))))
    assert values == list(range(20))
    assert peak == 5
    # FIFO: workers start in spawn order.
    assert out == [f"start {i}" for i in range(20)]


def test_twenty_workers_with_a_richer_stack_around_the_scheduler():
    # logger -> observer -> cache -> interceptor -> scheduler: the layering in
    # which doeff over-released its semaphore. (An observer sees the effects
    # that reach it: the Logs on their way out to the logger.)
    out, seen = [], []
    program = logger(out)(
        WithObserve(
            lambda e: seen.append(type(e).__name__),
            cache()(WithIntercept(lambda e: e, scheduled(_semaphore_program(out)))),
        )
    )
    values, peak = run(program)
    assert values == list(range(20)) and peak == 5
    assert out == [f"start {i}" for i in range(20)]
    assert seen.count("Log") == 20


def test_over_release_is_an_error():
    @do
    def main():
        sem = yield CreateSemaphore(1)
        yield ReleaseSemaphore(sem)

    with pytest.raises(kont.KontError) as info:
        run(scheduled(main()))
    assert info.value.tag == "over-release"


def test_gather_is_fail_fast_while_siblings_still_run():
    log = []

    @do
    def slow():
        for _ in range(5):
            yield YieldTask()
        log.append("slow done")
        return "slow"

    @do
    def main():
        a = yield Spawn(slow())
        b = yield Spawn(fails("bad"))
        try:
            yield Gather(a, b)
        except ValueError as e:
            log.append(f"gather failed: {e}")
        return (yield Wait(a))

    assert run(scheduled(main())) == "slow"
    assert log == ["gather failed: bad", "slow done"]


def test_race_gives_the_first_to_settle():
    @do
    def after(n, v):
        for _ in range(n):
            yield YieldTask()
        return v

    @do
    def main():
        a = yield Spawn(after(5, "late"))
        b = yield Spawn(after(1, "early"))
        return (yield Race(a, b))

    assert run(scheduled(main())) == "early"


@pytest.mark.parametrize("parked_on", ["promise", "semaphore"])
def test_cancel_while_parked_runs_finally_and_waiters_get_the_cancellation(parked_on):
    log = []

    @do
    def victim(p, sem):
        try:
            if parked_on == "promise":
                yield Wait(p)
            else:
                yield AcquireSemaphore(sem)
            log.append("not reached")
        finally:
            log.append("finally ran")

    @do
    def main():
        p = yield CreatePromise()
        sem = yield CreateSemaphore(1)
        yield AcquireSemaphore(sem)  # the root holds the only permit
        t = yield Spawn(victim(p, sem))
        yield YieldTask()  # the victim parks
        yield Cancel(t)
        try:
            yield Wait(t)
        except TaskCancelledError as e:
            log.append(f"waiter got {e.task!r}")
        return "done"

    assert run(scheduled(main())) == "done"
    assert log == ["finally ran", "waiter got Task(1)"]


def test_a_failed_promise_raises_its_exception_in_the_waiter():
    @do
    def main():
        p = yield CreatePromise()
        t = yield Spawn(waiter(p))
        yield FailPromise(p, KeyError("nope"))
        try:
            yield Wait(t)
        except KeyError as e:
            return f"caught {e}"

    @do
    def waiter(p):
        return (yield Wait(p))

    assert run(scheduled(main())) == "caught 'nope'"


def test_promise_completed_by_another_task():
    @do
    def main():
        p = yield CreatePromise()
        t = yield Spawn(waiter(p))
        yield CompletePromise(p, 41)
        return (yield Wait(t))

    @do
    def waiter(p):
        return (yield Wait(p)) + 1

    assert run(scheduled(main())) == 42


def test_deadlock_names_what_is_stuck():
    @do
    def main():
        p = yield CreatePromise()
        return (yield Wait(p))

    with pytest.raises(SchedulerDeadlockError) as info:
        run(scheduled(main()))
    assert "root" in str(info.value) and "promise 0" in str(info.value)


def test_live_tasks_are_cancelled_when_the_root_ends():
    log = []

    @do
    def forever():
        try:
            while True:
                yield YieldTask()
        finally:
            log.append("closed out")

    @do
    def main():
        yield Spawn(forever())
        yield YieldTask()
        return "root done"

    assert run(scheduled(main())) == "root done"
    assert log == ["closed out"]


def test_an_error_two_spawns_deep_shows_both_spawn_boundaries():
    @do
    def leaf():
        yield YieldTask()
        raise RuntimeError("deep")

    @do
    def middle():
        t = yield Spawn(leaf())
        return (yield Wait(t))

    @do
    def main():
        t = yield Spawn(middle())
        return (yield Wait(t))

    with pytest.raises(RuntimeError) as info:
        run(scheduled(main()))
    note = info.value.__notes__[0]
    assert "── task 2 (spawned by task 1) failed → joined by task 1" in note
    assert "── task 1 (spawned by task 0) failed → joined by task 0" in note


def test_scheduled_accepts_any_program_node():
    # `scheduled(h(main()))`: the root is a boundary node, not a bare @do call.
    @handler
    def double(effect: Log, k):
        return (yield Resume(k, effect.text * 2))

    @do
    def child():
        return (yield Log("ab"))

    @do
    def main():
        t = yield Spawn(double(child()))
        return (yield Log("x")), (yield Wait(t))

    assert run(scheduled(double(main()))) == ("xx", "abab")


def test_a_handler_between_the_scheduler_and_the_spawn_site_is_copied_into_the_task():
    @handler
    def shout(effect: Log, k):
        return (yield Resume(k, effect.text.upper()))

    @do
    def child():
        return (yield Log("from the child"))  # no handler of its own

    @do
    def main():
        t = yield Spawn(child())
        return (yield Wait(t))

    report = kont.run_traced(scheduled(shout(main())))
    assert report.value == "FROM THE CHILD"
    # The child ran under a fresh copy of `shout`, not the spawner's installation.
    copies = [e for e in report.events if e.startswith("install") and '.shout" copy-of' in e]
    assert len(copies) == 1, report.events


def test_higher_priority_tasks_run_first():
    order = []

    @do
    def note(name):
        order.append(name)
        return name
        yield

    @do
    def main():
        low = yield Spawn(note("low"), priority=kont.PRIORITY_IDLE)
        high = yield Spawn(note("high"), priority=kont.PRIORITY_HIGH)
        normal = yield Spawn(note("normal"))
        return (yield Gather(low, high, normal))

    assert run(scheduled(main())) == ["low", "high", "normal"]  # results in input order
    assert order == ["high", "normal", "low"]  # but run by priority


def test_virtual_time_delays_are_deterministic():
    @do
    def sleeper(ticks, name):
        yield kont.Delay(ticks)
        return name, (yield kont.Now())

    @do
    def main():
        a = yield Spawn(sleeper(30, "a"))
        b = yield Spawn(sleeper(10, "b"))
        return (yield Gather(a, b)), (yield kont.Now())

    assert run(scheduled(main())) == ([("a", 30), ("b", 10)], 30)


def test_a_failing_virtual_delay_raises_its_error_after_its_ticks():
    # The prelude's `await-fail` (SPEC.md 14.8): only the waiting task waits,
    # and the exception object itself arrives at the yield.
    boom = ValueError("timeout")

    @do
    def times_out():
        try:
            yield kont.DelayFail(20, boom)
        except ValueError as e:
            return e is boom, (yield kont.Now())
        return "no error"

    @do
    def quick():
        yield kont.Delay(5)
        return "quick", (yield kont.Now())

    @do
    def main():
        a = yield Spawn(times_out())
        b = yield Spawn(quick())
        return (yield Gather(a, b)), (yield kont.Now())

    assert run(scheduled(main())) == ([(True, 20), ("quick", 5)], 20)

    @do
    def uncaught():
        yield kont.DelayFail(3, boom)

    @do
    def waits():
        return (yield Wait((yield Spawn(uncaught()))))

    with pytest.raises(ValueError) as e:
        run(scheduled(waits()))
    assert e.value is boom


def test_a_handle_written_as_a_list_names_the_task_and_list_elements_are_kont_data():
    # Regression (found by `kont difftest --engine python`): a list argument's
    # elements reached the prelude as host values, so `["task", 1]` was "not-a-handle".
    @do
    def child():
        yield YieldTask()
        return "child"

    @do
    def root():
        t = yield Spawn(child())
        try:
            yield ReleaseSemaphore(["semaphore", 7])
        except kont.KontError as e:
            unknown = (e.tag, e.payload)
        return (yield Wait(["task", t.id])), unknown

    value, unknown = kont.run(kont.scheduled(root()))
    assert value == "child"
    assert unknown == ("not-a-handle", kont.Handle("semaphore", 7))

    @do
    def cancels_itself():
        yield Cancel(["task", 0])

    with pytest.raises(TaskCancelledError) as e:
        kont.run(kont.scheduled(cancels_itself()))
    assert e.value.task == kont.Handle("task", 0)


def test_a_cancelled_task_whose_finally_performs_ends_cancelled():
    # Regression (found by `kont difftest --engine python`): after the finally
    # performed, Python raised the cancellation again as its own exception and
    # the native scheduler recorded the task as "failed" (the prelude's clause
    # reads the error's tag: "cancelled").
    from kont import Delay, Now

    seen = []

    @do
    def child():
        try:
            yield Delay(10, None)
        finally:
            seen.append((yield Now()))
        return "never"

    @do
    def root():
        yield Spawn(child())
        return "root"

    rep = kont.run_report(kont.scheduled(root()), trace=True)
    assert rep.value == "root" and seen == [0]
    assert 'mark task-end (list 1 "cancelled")' in rep.events, rep.events
