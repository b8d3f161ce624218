"""WithIntercept and WithObserve."""

from __future__ import annotations

import pytest

import kont
from kont import EffectBase, Resume, WithHandler, WithIntercept, WithObserve, do, handler, run


class A(EffectBase):
    def __init__(self, n=0):
        self.n = n


class B(EffectBase):
    def __init__(self, n=0):
        self.n = n


class Log(EffectBase):
    def __init__(self, msg):
        self.msg = msg


@handler
def handle_a(effect: A, k):
    return (yield Resume(k, ("A", effect.n)))


@handler
def handle_b(effect: B, k):
    return (yield Resume(k, ("B", effect.n)))


@do
def ab_body():
    a = yield A(1)
    b = yield B(2)
    return [a, b]


def test_intercept_replaces_the_effect():
    def to_b(effect):
        return B(effect.n + 10) if isinstance(effect, A) else effect

    assert run(handle_b(WithIntercept(to_b, ab_body()))) == [("B", 11), ("B", 2)]


def test_intercept_identity_changes_nothing():
    seen = []

    def ident(effect):
        seen.append(type(effect).__name__)
        return effect

    assert run(handle_a(handle_b(WithIntercept(ident, ab_body())))) == [("A", 1), ("B", 2)]
    assert seen == ["A", "B"]


def test_intercept_types_filter():
    seen = []

    def only_a(effect):
        seen.append(type(effect).__name__)
        return A(effect.n * 100)

    assert run(handle_a(handle_b(WithIntercept(only_a, ab_body(), types=A)))) == [("A", 100), ("B", 2)]
    assert seen == ["A"]


def test_intercept_types_tuple():
    seen = []

    def f(effect):
        seen.append(type(effect).__name__)
        return effect

    @do
    def body():
        yield A()
        yield B()
        yield Log("x")
        return "ok"

    @handler
    def logs(effect: Log, k):
        return (yield Resume(k, None))

    assert run(logs(handle_a(handle_b(WithIntercept(f, body(), types=(A, Log)))))) == "ok"
    assert seen == ["A", "Log"]


def test_do_interceptor_may_perform_effects_outward():
    logged = []

    @handler
    def logger(effect: Log, k):
        logged.append(effect.msg)
        return (yield Resume(k, None))

    @do
    def f(effect):
        yield Log("saw " + type(effect).__name__)
        return effect

    assert run(logger(handle_a(handle_b(WithIntercept(f, ab_body(), types=(A, B)))))) == [("A", 1), ("B", 2)]
    assert logged == ["saw A", "saw B"]


def test_intercept_does_not_see_effects_handled_inside_it():
    seen = []

    def f(effect):
        seen.append(type(effect).__name__)
        return effect

    assert run(handle_b(WithIntercept(f, handle_a(ab_body())))) == [("A", 1), ("B", 2)]
    assert seen == ["B"]


def test_interceptor_error_propagates():
    def f(effect):
        raise KeyError("interceptor")

    @do
    def top():
        try:
            yield handle_a(WithIntercept(f, ab_body()))
        except KeyError:
            return "caught"
        return "no"

    assert run(top()) == "caught"


def test_intercept_stays_in_the_continuation():
    # interceptor inside a resumed body keeps seeing its later effects
    seen = []

    def f(effect):
        seen.append(effect.n)
        return effect

    @do
    def body():
        total = 0
        for i in range(4):
            total += (yield A(i))[1]
        return total

    assert run(handle_a(WithIntercept(f, body()))) == 6
    assert seen == [0, 1, 2, 3]


def test_observe_sees_effects_and_result_is_ignored():
    seen = []

    def obs(effect):
        seen.append((type(effect).__name__, effect.n))
        return B(999)  # ignored

    assert run(handle_a(handle_b(WithObserve(obs, ab_body())))) == [("A", 1), ("B", 2)]
    assert seen == [("A", 1), ("B", 2)]


def test_observe_types_filter():
    seen = []

    def obs(effect):
        seen.append(type(effect).__name__)

    assert run(handle_a(handle_b(WithObserve(obs, ab_body(), types=B)))) == [("A", 1), ("B", 2)]
    assert seen == ["B"]


def test_do_observer_may_perform_effects():
    logged = []

    @handler
    def logger(effect: Log, k):
        logged.append(effect.msg)
        return (yield Resume(k, None))

    @do
    def obs(effect):
        yield Log(f"observed {type(effect).__name__}")

    assert run(logger(handle_a(handle_b(WithObserve(obs, ab_body(), types=(A, B)))))) == [("A", 1), ("B", 2)]
    assert logged == ["observed A", "observed B"]


def test_observe_and_intercept_order():
    # the observer outside the interceptor sees the replaced effect
    seen = []

    def obs(effect):
        seen.append(type(effect).__name__)

    def to_b(effect):
        return B(effect.n)

    @do
    def body():
        return (yield A(5))

    assert run(handle_b(WithObserve(obs, WithIntercept(to_b, body(), types=A)))) == ("B", 5)
    assert seen == ["B"]


def test_intercept_and_observe_refuse_non_callables():
    with pytest.raises(TypeError):
        WithIntercept(1, ab_body())
    with pytest.raises(TypeError):
        WithObserve("x", ab_body())


def test_intercept_refuses_non_effect_types():
    with pytest.raises(TypeError):
        WithIntercept(lambda e: e, ab_body(), types=int)


def test_unhandled_after_intercept_reports_the_replacement():
    def to_b(effect):
        return B(7)

    @do
    def body():
        try:
            yield A(1)
        except kont.UnhandledEffect as e:
            return (type(e.effect).__name__, e.effect.n)
        return "no"

    assert run(WithIntercept(to_b, body())) == ("B", 7)


@do
def guarded_body():
    try:
        return (yield A(1))
    except Exception as e:  # noqa: BLE001
        return ("at perform", type(e).__name__)


@do
def guarded_top(p):
    try:
        return (yield p)
    except Exception as e:  # noqa: BLE001
        return ("outside", type(e).__name__)


def test_interceptor_error_leaves_from_install_node_not_perform_site():
    def bad(effect):
        raise KeyError("interceptor")

    assert run(guarded_top(handle_a(WithIntercept(bad, guarded_body())))) == ("outside", "KeyError")


def test_observer_error_leaves_from_install_node_not_perform_site():
    def bad(effect):
        raise KeyError("observer")

    assert run(guarded_top(handle_a(WithObserve(bad, guarded_body())))) == ("outside", "KeyError")


def test_interceptor_returning_a_non_effect_is_an_error_from_install_node():
    @do
    def top():
        try:
            return (yield handle_a(WithIntercept(lambda e: 42, guarded_body())))
        except TypeError:
            return "type error outside"
        except kont.KontError as e:
            return "kont " + e.tag + " outside"

    assert run(top()) in ("type error outside", "kont type-error outside")


def test_interceptor_sees_effects_of_handler_clauses_inside_it():
    seen = []

    def f(effect):
        seen.append(type(effect).__name__)
        return effect

    @handler
    def a_via_b(effect: A, k):
        v = yield B(5)
        return (yield Resume(k, v))

    @do
    def body():
        return (yield A(1))

    assert run(handle_b(WithIntercept(f, a_via_b(body())))) == ("B", 5)
    assert seen == ["B"]  # A was handled inside; the clause's B reached it
