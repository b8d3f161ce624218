"""Runs nested inside runs on the same thread."""

from __future__ import annotations

import kont
from kont import EffectBase, Resume, do, handler, run


class A(EffectBase):
    pass


@do
def perform(eff):
    return (yield eff)


@handler
def one(effect: A, k):
    return (yield Resume(k, 1))


def test_nested_run_inside_a_running_program():
    @do
    def main():
        x = yield A()
        inner = run(one(perform(A())))
        y = yield A()
        return (x, inner, y)

    assert run(one(main())) == (1, 1, 1)


def test_outer_k_in_a_nested_run_is_stale():
    parked = []

    @handler
    def park(effect: A, k):
        parked.append(k)
        return "parked"

    @do
    def inner_main(k):
        try:
            return (yield Resume(k, 1))
        except kont.StaleContinuationError:
            return "stale"

    @do
    def main():
        yield park(perform(A()))
        r = run(inner_main(parked[0]))
        # and the outer run can still use it afterwards
        r2 = yield Resume(parked[0], 2)
        return (r, r2)

    assert run(main()) == ("stale", 2)


def test_nested_run_closes_its_own_abandoned_generators_at_its_end():
    log = []

    @handler
    def drop(effect: A, k):
        return "dropped"
        yield

    @do
    def body(tag):
        try:
            yield A()
        finally:
            log.append(tag + "-finally")

    @do
    def main():
        r = run(drop(body("inner")))
        log.append("after-inner-run")
        yield drop(body("outer"))
        log.append("main-end")
        return r

    assert run(main()) == "dropped"
    assert log == ["inner-finally", "after-inner-run", "main-end", "outer-finally"]


def test_nested_traced_run_has_its_own_ids():
    inner_events = []

    @do
    def main():
        yield A()
        inner_events.extend(kont.run_traced(one(perform(A()))).events)
        yield A()
        return "ok"

    rep = kont.run_traced(one(main()))
    assert rep.value == "ok"
    assert inner_events[0] == 'install s1 handler "one"'
    assert "handle d1 s1 k1" in inner_events
    assert "handle d2 s1 k2" in rep.events
    assert "handle d3 s1 k3" not in rep.events
