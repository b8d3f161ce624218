"""Continuations: K objects, one-shot, stale, NewCont, parked computations,
nested dispatch and abandoned generators."""

from __future__ import annotations

import gc

import pytest

import kont
from kont import (
    EffectBase,
    K,
    NewCont,
    Resume,
    ResumeThrow,
    Transfer,
    WithHandler,
    WithIntercept,
    do,
    handler,
    run,
)


class A(EffectBase):
    def __init__(self, n=0):
        self.n = n


class B(EffectBase):
    def __init__(self, n=0):
        self.n = n


class Suspend(EffectBase):
    pass


class Inner(EffectBase):
    pass


class Outer(EffectBase):
    pass


@do
def perform(eff):
    return (yield eff)


# --- K ----------------------------------------------------------------------


def test_k_is_not_constructible():
    with pytest.raises(TypeError):
        K()


def test_k_live_and_repr():
    states = []

    @handler
    def h(effect: A, k):
        states.append((k.live, repr(k), k.id))
        r = yield Resume(k, 1)
        states.append((k.live, repr(k)))
        return r

    assert run(h(perform(A()))) == 1
    (live0, repr0, id0), (live1, repr1) = states
    assert live0 is True and live1 is False
    assert id0 == 1
    assert "k1" in repr0 and "k1" in repr1
    assert repr0 != repr1  # a used continuation says so


def test_k_ids_count_per_dispatch():
    ids = []

    @handler
    def h(effect: A, k):
        ids.append(k.id)
        return (yield Resume(k, None))

    @do
    def main():
        yield A()
        yield A()
        yield A()
        return "ok"

    assert run(h(main())) == "ok"
    assert ids == [1, 2, 3]
    ids.clear()
    assert run(h(main())) == "ok"
    assert ids == [1, 2, 3]  # canonical ids start again each run


def test_one_shot_second_resume_raises_at_that_yield():
    @handler
    def h(effect: A, k):
        first = yield Resume(k, 1)
        try:
            yield Resume(k, 2)
        except kont.OneShotError as e:
            return ("first", first, "second refused", isinstance(e.k, K) and e.k.id == k.id)
        return "no error"

    @do
    def main():
        x = yield A()
        return x * 10

    assert run(h(main())) == ("first", 10, "second refused", True)


def test_one_shot_after_transfer_from_plain_code():
    parked = []

    @handler
    def park(effect: A, k):
        parked.append(k)
        return "parked"

    @do
    def main():
        r1 = yield park(perform(A()))
        k = parked[0]
        r2 = yield Resume(k, "v")
        try:
            yield Resume(k, "again")
        except kont.OneShotError:
            return (r1, r2, "one-shot")
        return "no"

    assert run(main()) == ("parked", "v", "one-shot")


def test_one_shot_error_is_a_kont_error():
    assert issubclass(kont.OneShotError, kont.KontError)
    assert issubclass(kont.StaleContinuationError, kont.KontError)
    assert issubclass(kont.UnhandledEffect, kont.KontError)


def k_of_a_finished_run() -> K:
    """A continuation parked by a clause of a run that has ended."""
    saved = []

    @handler
    def park(effect: A, k):
        saved.append(k)
        return "parked"

    assert run(park(perform(A()))) == "parked"
    return saved[0]


def test_stale_continuation_from_earlier_run():
    old = k_of_a_finished_run()

    @do
    def main():
        try:
            yield Resume(old, 1)
        except kont.StaleContinuationError as e:
            return ("stale", isinstance(e.k, K) and e.k.id == old.id)
        return "no"

    assert run(main()) == ("stale", True)


def test_stale_continuation_uncaught_leaves_run():
    saved = [k_of_a_finished_run()]

    @do
    def main():
        yield Transfer(saved[0], 1)

    @handler
    def h(effect: B, k):
        yield Transfer(saved[0], 1)

    with pytest.raises(kont.StaleContinuationError):
        run(h(perform(B())))


def test_k_from_earlier_run_is_not_live():
    saved = [k_of_a_finished_run()]

    @do
    def main():
        return saved[0].live
        yield

    assert run(main()) is False


def test_k_from_earlier_run_shows_as_earlier_in_the_trace():
    # SPEC.md 3.2 / 14.5: an earlier run's continuation prints apart from this run's own `#k1`.
    old = k_of_a_finished_run()

    @do
    def main():
        yield Resume(old, 1)

    rep = kont.run_report(main(), trace=True)
    assert isinstance(rep.error, kont.StaleContinuationError)
    [event] = rep.events
    assert event.startswith(f'raise (error "stale" #earlier-k{old.id}) @')


# --- NewCont ----------------------------------------------------------------


def test_newcont_unstarted_resumed_later():
    log = []

    @do
    def f(x):
        log.append(("f", x))
        return x + 1

    @do
    def main():
        k = yield NewCont(f)
        log.append(("made", k.live))
        r = yield Resume(k, 41)
        return (r, k.live)

    assert run(main()) == (42, False)
    assert log == [("made", True), ("f", 41)]


def test_newcont_plain_function():
    @do
    def main():
        k = yield NewCont(lambda x: x * 2)
        return (yield Resume(k, 21))

    assert run(main()) == 42


def test_newcont_effects_go_to_the_resumer():
    @handler
    def h(effect: A, k):
        return (yield Resume(k, effect.n * 2))

    @do
    def f(x):
        v = yield A(x)
        return v + 1

    @do
    def resumer(k):
        return (yield Resume(k, 5))

    @do
    def main():
        k = yield NewCont(f)
        return (yield h(resumer(k)))

    assert run(main()) == 11


def test_newcont_refuses_non_callable():
    with pytest.raises(TypeError):
        NewCont(42)


def test_newcont_without_envelope_does_not_see_handlers_inside_k0():
    @handler
    def inner_b(effect: B, k):
        return (yield Resume(k, 100))

    @handler
    def outer(effect: A, k):
        k2 = yield NewCont(f)
        try:
            r = yield Resume(k2, 10)
        except kont.UnhandledEffect as e:
            r = ("unhandled", type(e.effect).__name__)
        return (yield Resume(k, r))

    @do
    def f(x):
        v = yield B()
        return x + v

    assert run(outer(inner_b(perform(A())))) == ("unhandled", "B")


def test_newcont_envelope_runs_under_copies_of_k0_handlers():
    took = []

    @handler
    def inner_b(effect: B, k):
        took.append(effect.n)
        return (yield Resume(k, 100))

    @do
    def f(x):
        v = yield B(x)
        return x + v

    @handler
    def outer(effect: A, k):
        k2 = yield NewCont(f, envelope=k)
        assert k.live  # the envelope is read, not consumed
        r = yield Resume(k2, 10)
        return (yield Resume(k, r))

    @do
    def body():
        return ("body", (yield A()))

    assert run(outer(inner_b(body()))) == ("body", 110)
    assert took == [10]


@handler
def env_inner_b(effect: B, k):
    return (yield Resume(k, 1))


@do
def env_f(x):
    return (yield B())


@handler
def env_outer(effect: A, k):
    k2 = yield NewCont(env_f, envelope=k)
    r = yield Resume(k2, None)
    return (yield Resume(k, r))


def test_newcont_envelope_copies_in_trace():
    rep = kont.run_traced(env_outer(env_inner_b(perform(A()))))
    assert rep.error is None and rep.value == 1
    ev = rep.events
    # s1 env_outer, s2 env_inner_b; d1 (A) skips s2 and is handled by s1 with k1.
    # k1 holds s2 and (deep) s1: the envelope copies them innermost first.
    i = ev.index("handle d1 s1 k1")
    assert ev[i + 1 : i + 4] == [
        'install s3 handler "env_inner_b" copy-of s2',
        'install s4 handler "env_outer" copy-of s1',
        "new-cont k2 [s3 s4]",
    ]
    assert "handle d2 s3 k3" in ev
    assert ev[-2:] == ["resume k1 1", "return d1 s1 1"]


# --- the seed scenario: a computation parked and resumed elsewhere ---------


def test_parked_computation_resumed_under_different_handler():
    parked = []
    spied = []

    @handler
    def park(effect: Suspend, k):
        parked.append(k)
        return "parked"

    @handler
    def inner_h(effect: Inner, k):
        return (yield Resume(k, "B"))

    @handler
    def outer_h(effect: Outer, k):
        return (yield Resume(k, "C"))

    def spy(effect):
        spied.append(type(effect).__name__)
        return effect

    @do
    def body():
        a = yield Suspend()
        b = yield Inner()
        c = yield Outer()
        return (a, b, c)

    @do
    def computation():
        return (yield inner_h(WithIntercept(spy, body())))

    @do
    def resumer(k):
        return (yield Resume(k, "A"))

    @do
    def main():
        r1 = yield park(computation())
        assert len(parked) == 1 and parked[0].live
        r2 = yield outer_h(resumer(parked[0]))
        return (r1, r2)

    assert run(main()) == ("parked", ("A", "B", "C"))
    assert spied == ["Suspend", "Inner", "Outer"]


def test_parked_computation_keeps_its_parking_handler():
    # deep: the parking handler is in k, so a second Suspend parks again.
    parked = []

    @handler
    def park(effect: Suspend, k):
        parked.append(k)
        return "parked"

    @do
    def body():
        a = yield Suspend()
        b = yield Suspend()
        return a + b

    @do
    def main():
        r1 = yield park(body())
        r2 = yield Resume(parked[0], "x")
        r3 = yield Resume(parked[1], "y")
        return (r1, r2, r3)

    assert run(main()) == ("parked", "parked", "xy")


def test_parked_computation_unhandled_effect_goes_to_resumer_context():
    parked = []

    @handler
    def park(effect: Suspend, k):
        parked.append(k)
        return "parked"

    @do
    def body():
        yield Suspend()
        try:
            yield Outer()
        except kont.UnhandledEffect:
            return "unhandled in body"
        return "handled"

    @do
    def main():
        yield park(body())
        return (yield Resume(parked[0], None))

    assert run(main()) == "unhandled in body"


# --- nested dispatch --------------------------------------------------------


def test_handler_effect_caught_outside_by_a_parking_handler():
    parked = []

    @handler
    def h_a(effect: A, k):
        v = yield B(effect.n)
        r = yield Resume(k, v)
        return ("hA", r)

    @handler
    def h_b(effect: B, k):
        parked.append(k)
        return "parked-b"

    @do
    def body():
        x = yield A(1)
        return x * 2

    @do
    def main():
        r1 = yield h_b(h_a(body()))
        k = parked[0]
        r2 = yield Resume(k, 21)
        return (r1, r2)

    assert run(main()) == ("parked-b", ("hA", 42))


# --- abandoned generators ---------------------------------------------------


def test_abandoned_body_finally_runs_after_program_end_exactly_once():
    log = []

    @do
    def sub():
        try:
            log.append("sub-start")
            yield A()
            log.append("sub-after")
        finally:
            log.append("sub-finally")

    @do
    def body():
        try:
            log.append("body-start")
            yield sub()
            log.append("body-after")
        finally:
            log.append("body-finally")

    @handler
    def drop(effect: A, k):
        return "dropped"

    @do
    def main():
        r = yield drop(body())
        log.append("main-end")
        return r

    assert run(main()) == "dropped"
    gc.collect()
    assert log[:3] == ["body-start", "sub-start", "main-end"]
    assert sorted(log[3:]) == ["body-finally", "sub-finally"]
    assert log.count("sub-finally") == 1 and log.count("body-finally") == 1


def test_abandoned_finally_not_run_mid_run():
    log = []

    @do
    def body():
        try:
            yield A()
        finally:
            log.append("finally")

    @handler
    def drop(effect: A, k):
        return "dropped"
        yield

    @do
    def main():
        yield drop(body())
        gc.collect()
        log.append("after-collect")
        yield drop(body())
        log.append("main-end")
        return "ok"

    assert run(main()) == "ok"
    assert log == ["after-collect", "main-end", "finally", "finally"]


def test_handler_finally_runs_when_handler_returns():
    log = []

    @handler
    def h(effect: A, k):
        try:
            return "h-value"
        finally:
            log.append("h-finally")
        yield

    @do
    def main():
        r = yield h(perform(A()))
        log.append("main-end")
        return r

    assert run(main()) == "h-value"
    assert log == ["h-finally", "main-end"]


def test_resume_throw_cleans_up_a_parked_computation():
    log = []
    parked = []

    @handler
    def park(effect: A, k):
        parked.append(k)
        return "parked"

    @do
    def body():
        try:
            yield A()
        finally:
            log.append("body-finally")

    @do
    def main():
        yield park(body())
        try:
            yield ResumeThrow(parked[0], GeneratorExit())
        except GeneratorExit:
            log.append("came back")
        log.append("main-end")
        return "ok"

    assert run(main()) == "ok"
    assert log == ["body-finally", "came back", "main-end"]


def test_parked_k_surviving_the_run_never_runs_finally_twice():
    log = []
    parked = []

    @do
    def body():
        try:
            yield A()
        finally:
            log.append("finally")

    @handler
    def park(effect: A, k):
        parked.append(k)
        return "parked"

    @do
    def main():
        r = yield park(body())
        log.append("main-end")
        return r

    assert run(main()) == "parked"
    assert log[0] == "main-end"
    parked.clear()
    gc.collect()
    assert log.count("finally") <= 1
    assert log[0] == "main-end"


# --- more continuation cases ------------------------------------------------


def test_clause_that_raises_leaves_k_live_and_resumable():
    parked = []

    @handler
    def h(effect: A, k):
        parked.append(k)
        raise ValueError("clause failed")
        yield

    @do
    def body():
        return ("body", (yield A()))

    @do
    def main():
        try:
            yield h(body())
        except ValueError:
            pass
        live = parked[0].live
        r = yield Resume(parked[0], 5)
        return (live, r)

    assert run(main()) == (True, ("body", 5))


def test_body_abandoned_by_a_raising_clause_is_closed_at_run_end():
    log = []

    @handler
    def h(effect: A, k):
        raise ValueError("x")
        yield

    @do
    def body():
        try:
            yield A()
        finally:
            log.append("body-finally")

    @do
    def main():
        try:
            yield h(body())
        except ValueError:
            log.append("caught")
        log.append("main-end")
        return 1

    assert run(main()) == 1
    assert log == ["caught", "main-end", "body-finally"]


def test_resume_throw_into_unstarted_continuation():
    @do
    def main():
        k = yield NewCont(lambda x: ("started", x))
        try:
            yield ResumeThrow(k, KeyError("nc"))
        except KeyError as e:
            return ("caught", e.args[0], k.live)
        return "no"

    assert run(main()) == ("caught", "nc", False)


def test_transfer_to_a_new_continuation_replaces_the_clause():
    log = []

    @do
    def f(x):
        log.append(("f", x))
        return x * 3

    @handler
    def h(effect: A, k):
        k2 = yield NewCont(f)
        yield Transfer(k2, 5)

    @do
    def body():
        try:
            yield A()
            log.append("body-after")
        finally:
            log.append("body-finally")

    @do
    def main():
        r = yield h(body())
        log.append(("main-end", r))
        return r

    assert run(main()) == 15
    assert log == [("f", 5), ("main-end", 15), "body-finally"]


def test_resume_parked_k_from_inside_another_handler():
    parked = []

    @handler
    def park(effect: A, k):
        parked.append(k)
        return "parked"

    @handler
    def hb(effect: B, k):
        r = yield Resume(parked[0], effect.n)  # run the parked computation here
        return (yield Resume(k, r))

    @do
    def body():
        return ("parked body", (yield A()))

    @do
    def other():
        return ("other", (yield B(7)))

    @do
    def main():
        r1 = yield park(body())
        r2 = yield hb(other())
        return (r1, r2)

    assert run(main()) == ("parked", ("other", ("parked body", 7)))


def test_k_returned_through_the_vm_is_the_same_k():
    parked = []

    @handler
    def park(effect: A, k):
        parked.append(k)
        return k

    @do
    def main():
        got = yield park(perform(A()))
        return got is parked[0] or (got == parked[0] and hash(got) == hash(parked[0]))

    assert run(main()) is True


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda k: Resume(k, 2), id="resume"),
        pytest.param(lambda k: kont.Transfer(k, 2), id="transfer"),
        pytest.param(lambda k: kont.Pass(A(), k), id="pass"),
        pytest.param(lambda k: ResumeThrow(k, KeyError("x")), id="resume-throw"),
        pytest.param(lambda k: kont.TransferThrow(k, KeyError("x")), id="transfer-throw"),
        pytest.param(lambda k: NewCont(lambda x: x, envelope=k), id="envelope"),
    ],
)
def test_every_use_of_a_used_k_raises_one_shot_at_that_yield(form):
    @handler
    def h(effect: A, k):
        first = yield Resume(k, 1)
        try:
            yield form(k)
        except kont.OneShotError:
            return ("one-shot", first)
        return "no error"

    assert run(h(perform(A()))) == ("one-shot", 1)


def test_envelope_of_a_stale_k_is_stale():
    saved = []

    @handler
    def park(effect: A, k):
        saved.append(k)
        return "parked"

    run(park(perform(A())))

    @do
    def main():
        try:
            yield NewCont(lambda x: x, envelope=saved[0])
        except kont.StaleContinuationError:
            return "stale"
        return "no"

    assert run(main()) == "stale"


def test_k_dropped_mid_run_is_closed_at_run_end():
    log = []
    parked = []

    @handler
    def park(effect: A, k):
        parked.append(k)
        return "parked"

    @do
    def body():
        try:
            yield A()
        finally:
            log.append("body-finally")

    @do
    def main():
        yield park(body())
        parked.clear()
        gc.collect()
        log.append("cleared")
        log.append("main-end")
        return "ok"

    assert run(main()) == "ok"
    assert log == ["cleared", "main-end", "body-finally"]


def test_outer_k_dropped_inside_a_nested_run_is_closed_at_the_outer_run_end():
    log = []
    parked = []

    @handler
    def park(effect: A, k):
        parked.append(k)
        return "parked"

    @do
    def body():
        try:
            yield A()
        finally:
            log.append("body-finally")

    @do
    def inner():
        parked.clear()  # the outer run's K dies during the inner run
        gc.collect()
        log.append("inner-run")
        return 1

    @do
    def main():
        yield park(body())
        run(inner())
        log.append("after-inner-run")
        log.append("main-end")
        return "ok"

    assert run(main()) == "ok"
    assert log == ["inner-run", "after-inner-run", "main-end", "body-finally"]
