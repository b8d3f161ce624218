"""Runs on several Python threads; continuations crossing threads."""

from __future__ import annotations

import gc
import threading

import kont
from kont import EffectBase, Resume, do, handler, run


class Get(EffectBase):
    def __init__(self, i):
        self.i = i


class Park(EffectBase):
    pass


@handler
def square(effect: Get, k):
    return (yield Resume(k, effect.i * effect.i))


@do
def sum_squares(n):
    total = 0
    for i in range(n):
        total += yield Get(i)
    return total


def _in_thread(fn):
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001
            box["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join(timeout=120)
    assert not t.is_alive()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_many_threads_run_programs_at_once():
    results = {}
    errors = []
    start = threading.Barrier(8)

    def worker(t):
        try:
            start.wait()
            got = []
            for r in range(20):
                n = 50 + t * 10 + r
                got.append((n, run(square(sum_squares(n)))))
            results[t] = got
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    assert errors == []
    assert sorted(results) == list(range(8))
    for t, got in results.items():
        for n, v in got:
            assert v == sum(i * i for i in range(n)), (t, n)


def test_traced_runs_on_threads_have_their_own_canonical_ids():
    def one():
        return kont.run_traced(square(sum_squares(3))).events

    main_events = one()
    assert _in_thread(one) == main_events
    assert "handle d3 s1 k3" in main_events


def _park_k():
    parked = []

    @handler
    def park(effect: Park, k):
        parked.append(k)
        return "parked"

    @do
    def body():
        return (yield Park())

    assert run(park(body())) == "parked"
    return parked[0]


def test_k_from_another_thread_is_stale_and_catchable():
    k = _in_thread(_park_k)

    @do
    def main():
        try:
            yield Resume(k, 1)
        except kont.StaleContinuationError:
            return "stale"
        return "no"

    assert run(main()) == "stale"
    assert k.live is False
    assert "k1" in repr(k)


def test_k_used_in_a_run_on_another_thread_is_stale():
    holder = []

    @do
    def on_a():
        # a run on thread A parks k and keeps it
        k = _park_k_inline()
        holder.append(k)
        return "a-done"
        yield

    def _park_k_inline():
        return _park_k()

    assert run(on_a()) == "a-done"
    k = holder[0]

    def on_b():
        @do
        def main():
            try:
                yield Resume(k, 1)
            except kont.StaleContinuationError:
                return "stale on b"
            return "no"

        return run(main())

    assert _in_thread(on_b) == "stale on b"


def test_dropping_a_k_on_another_thread_is_harmless():
    box = [_park_k()]

    def drop_it():
        k = box.pop()
        assert k.live is False
        del k
        gc.collect()
        return run(square(sum_squares(4)))

    assert _in_thread(drop_it) == 14
    gc.collect()
    assert run(square(sum_squares(4))) == 14


def test_k_from_thread_a_used_uncaught_on_thread_b_leaves_run():
    k = _park_k()

    def on_b():
        @do
        def main():
            return (yield Resume(k, 1))

        try:
            run(main())
        except kont.StaleContinuationError as e:
            return ("stale", e.k is k or getattr(e.k, "id", None) == 1)
        return "no"

    assert _in_thread(on_b) == ("stale", True)
    # and the original thread can still use its own (finished-run) K only as stale
    @do
    def main():
        try:
            yield Resume(k, 1)
        except kont.StaleContinuationError:
            return "stale here too"
        return "no"

    assert run(main()) == "stale here too"


def test_runs_on_two_threads_interleave_inside_each_other():
    # run A is suspended (blocked in Python code) while run B does its whole
    # work, then A finishes: both runs live at the same time.
    a_started = threading.Event()
    go_a = threading.Event()
    a_done = threading.Event()
    order = []

    @do
    def prog_a():
        x = yield Get(2)
        order.append("a1")
        a_started.set()
        assert go_a.wait(60)
        y = yield Get(3)
        order.append("a2")
        return x + y

    @do
    def prog_b():
        assert a_started.wait(60)
        x = yield Get(4)
        order.append("b1")
        go_a.set()
        assert a_done.wait(60)
        y = yield Get(5)
        order.append("b2")
        return x + y

    def run_a():
        rep = kont.run_traced(square(prog_a()))
        a_done.set()
        return rep

    box = {}
    tb = threading.Thread(target=lambda: box.setdefault("b", kont.run_traced(square(prog_b()))))
    tb.start()
    rep_a = run_a()
    tb.join(timeout=120)
    rep_b = box["b"]
    assert (rep_a.value, rep_a.error) == (13, None)
    assert (rep_b.value, rep_b.error) == (41, None)
    assert order == ["a1", "b1", "a2", "b2"]
    # canonical ids are per run even when runs overlap
    for rep in (rep_a, rep_b):
        assert rep.events[0] == 'install s1 handler "square"'
        assert "handle d2 s1 k2" in rep.events
        assert not any("d3" in e for e in rep.events)


def test_live_k_of_a_running_run_used_and_dropped_on_another_thread():
    # thread A's run parks k and, while still running, hands it to thread B,
    # whose own run tries to resume it (stale) and then drops it; A's run
    # then resumes k itself and finishes normally.
    handed = []
    b_done = threading.Event()
    b_result = {}

    @handler
    def park(effect: Park, k):
        handed.append(k)
        return "parked"

    @do
    def body():
        return ("body", (yield Park()))

    def thread_b():
        k = handed[0]

        @do
        def main():
            try:
                yield Resume(k, "from b")
            except kont.StaleContinuationError:
                return ("stale", k.live)
            return "no"

        b_result["r"] = run(main())
        del k
        handed.clear()
        gc.collect()
        b_done.set()

    @do
    def main_a():
        r1 = yield park(body())
        k = handed[0]
        t = threading.Thread(target=thread_b)
        t.start()
        assert b_done.wait(60)
        t.join(60)
        r2 = yield Resume(k, "from a")
        return (r1, r2)

    assert run(main_a()) == ("parked", ("body", "from a"))
    assert b_result["r"] == ("stale", False)
