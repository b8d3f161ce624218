"""Errors: unhandled effects, bad yields, Python exceptions across handler
boundaries, and what leaves kont.run."""

from __future__ import annotations

import pytest

import kont
from kont import EffectBase, Pass, Resume, Transfer, WithHandler, do, handler, run


class A(EffectBase):
    def __init__(self, n=0):
        self.n = n


class B(EffectBase):
    pass


@handler
def handle_a(effect: A, k):
    return (yield Resume(k, effect.n))


# --- unhandled effects ------------------------------------------------------


def test_unhandled_effect_leaves_run_with_the_effect():
    eff = A(3)

    @do
    def main():
        yield eff
        return "unreached"

    with pytest.raises(kont.UnhandledEffect) as ei:
        run(main())
    assert ei.value.effect is eff
    assert ei.value.tag == "unhandled"


def test_unhandled_effect_catchable_at_perform_site():
    log = []

    @do
    def main():
        try:
            yield B()
        except kont.UnhandledEffect as e:
            log.append(type(e.effect).__name__)
        x = yield A(5)
        return ("after", x)

    assert run(handle_a(main())) == ("after", 5)
    assert log == ["B"]


def test_unhandled_effect_skips_non_matching_handlers_and_is_caught_outside():
    @do
    def inner():
        yield B()
        return "unreached"

    @do
    def main():
        try:
            yield handle_a(inner())
        except kont.UnhandledEffect as e:
            return ("caught outside", type(e.effect).__name__)
        return "no"

    assert run(main()) == ("caught outside", "B")


# --- bad yields -------------------------------------------------------------


def _catch_type_error_of(bad):
    @do
    def main():
        try:
            yield bad
        except TypeError as e:
            return ("TypeError", str(e) != "")
        return "no error"

    return run(main())


def test_yield_int_is_type_error_at_yield():
    assert _catch_type_error_of(42) == ("TypeError", True)


def test_yield_none_is_type_error_at_yield():
    assert _catch_type_error_of(None) == ("TypeError", True)


def test_yield_uncalled_do_function_is_type_error():
    @do
    def f():
        return 1
        yield

    assert _catch_type_error_of(f) == ("TypeError", True)


def test_yield_bare_generator_is_type_error():
    def gen():
        yield A()

    g = gen()
    assert _catch_type_error_of(g) == ("TypeError", True)


def test_yield_effect_class_instead_of_instance_is_type_error():
    assert _catch_type_error_of(A) == ("TypeError", True)


def test_yield_bad_value_uncaught_leaves_run_as_type_error():
    @do
    def main():
        yield "not an effect"

    with pytest.raises(TypeError):
        run(main())


def test_after_caught_type_error_the_program_goes_on():
    @do
    def main():
        try:
            yield 1.5
        except TypeError:
            pass
        return (yield A(9))

    assert run(handle_a(main())) == 9


# --- exceptions across boundaries -------------------------------------------


def test_exception_in_inner_generator_caught_in_outer_across_handlers():
    raised = []

    @do
    def inner():
        yield A(1)
        e = ValueError("inner")
        raised.append(e)
        raise e

    @handler
    def h_b(effect: B, k):
        return (yield Resume(k, None))

    @do
    def middle():
        return (yield h_b(inner()))

    @do
    def main():
        try:
            yield handle_a(middle())
        except ValueError as e:
            return e
        return None

    got = run(main())
    assert got is raised[0]


def test_exception_runs_finally_blocks_inside_out():
    log = []

    @do
    def inner():
        try:
            yield A()
            raise KeyError("x")
        finally:
            log.append("inner-finally")

    @do
    def middle():
        try:
            return (yield handle_a(inner()))
        finally:
            log.append("middle-finally")

    @do
    def main():
        try:
            yield middle()
        except KeyError:
            log.append("caught")
        return "ok"

    assert run(main()) == "ok"
    assert log == ["inner-finally", "middle-finally", "caught"]


def test_exception_raised_in_resumed_body_reaches_handler_resume_yield():
    @handler
    def h(effect: A, k):
        try:
            return (yield Resume(k, 1))
        except ZeroDivisionError:
            return "handler saw it"

    @do
    def main():
        x = yield A()
        return x / 0

    assert run(h(main())) == "handler saw it"


def test_uncaught_exception_is_the_same_object_with_kont_traceback_note():
    raised = []

    @do
    def inner():
        yield A()
        e = RuntimeError("deep")
        raised.append(e)
        raise e

    @do
    def main():
        return (yield handle_a(inner()))

    with pytest.raises(RuntimeError) as ei:
        run(main())
    assert ei.value is raised[0]
    notes = getattr(ei.value, "__notes__", [])
    assert any("kont traceback" in n for n in notes)


def test_uncaught_exception_without_trace_has_no_note():
    raised = []

    @do
    def main():
        yield A()
        e = RuntimeError("x")
        raised.append(e)
        raise e

    with pytest.raises(RuntimeError) as ei:
        run(handle_a(main()), trace=False)
    assert ei.value is raised[0]
    assert not any("kont traceback" in n for n in getattr(ei.value, "__notes__", []))


def test_exception_from_plain_do_function():
    @do
    def plain():
        raise LookupError("plain")

    @do
    def main():
        try:
            yield plain()
        except LookupError as e:
            return str(e)
        return "no"

    assert run(main()) == "plain"


def test_exception_from_handler_clause_leaves_run():
    @handler
    def h(effect: A, k):
        raise OSError("clause")
        yield

    @do
    def main():
        try:
            yield A()
        except OSError:
            return "at perform"
        return "no"

    with pytest.raises(OSError) as ei:
        run(h(main()))
    assert str(ei.value) == "clause"


def test_base_exception_subclasses_propagate():
    class Stop(BaseException):
        pass

    @do
    def main():
        yield A()
        raise Stop()

    @do
    def top():
        try:
            yield handle_a(main())
        except Stop:
            return "stopped"
        return "no"

    assert run(top()) == "stopped"


# --- forms outside a clause -------------------------------------------------
# SPEC 5.7 K-Outside: transfer/pass escape to the nearest clause activation
# (a try does not stop an escape, finally blocks run on the way); with none,
# the escape reaches the top of the run and becomes the error outside-clause.


def _parked_then(form_of):
    log = []
    parked = []

    @handler
    def park(effect: A, k):
        parked.append(k)
        return "parked"

    @do
    def body():
        return (yield A())

    @do
    def main():
        yield park(body())
        try:
            yield form_of(parked[0])
        except kont.KontError:
            log.append("caught")
        finally:
            log.append("finally")
        return "no"

    with pytest.raises(kont.KontError) as ei:
        run(main())
    return ei.value.tag, log


def test_transfer_outside_a_clause_is_an_error():
    assert _parked_then(lambda k: Transfer(k, 1)) == ("outside-clause", ["finally"])


def test_pass_outside_a_clause_is_an_error():
    assert _parked_then(lambda k: Pass(A(), k)) == ("outside-clause", ["finally"])


def test_resume_of_non_k_is_error_at_yield():
    @do
    def main():
        try:
            yield Resume("not a k", 1)
        except (TypeError, kont.KontError):
            return "refused"
        return "no"

    assert run(main()) == "refused"


def test_resume_throw_of_non_exception_is_error_at_yield():
    @handler
    def h(effect: A, k):
        try:
            yield kont.ResumeThrow(k, "not an exception")
        except (TypeError, kont.KontError):
            return (yield Resume(k, "fine"))
        return "no"

    assert run(h(perform_a())) == "fine"


@do
def perform_a():
    return (yield A())


def test_calling_a_do_function_with_bad_arguments_is_type_error_at_yield():
    @do
    def f(a):
        return a
        yield

    @do
    def main():
        try:
            yield f(1, 2, 3)
        except TypeError:
            return "caught"
        return "no"

    assert run(main()) == "caught"


def test_generator_raising_before_its_first_yield():
    @do
    def sub():
        raise IndexError("early")
        yield

    @do
    def main():
        try:
            yield sub()
        except IndexError as e:
            return str(e)
        return "no"

    assert run(main()) == "early"


def test_error_in_finally_of_abandoned_generator_is_unraisable_not_raised(monkeypatch):
    import sys

    got = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: got.append(u.exc_value))

    @handler
    def drop(effect: A, k):
        return "dropped"
        yield

    @do
    def bad():
        try:
            yield A()
        finally:
            raise KeyError("in finally")

    assert run(drop(bad())) == "dropped"
    assert len(got) == 1 and isinstance(got[0], KeyError)


def test_run_refuses_a_non_program():
    with pytest.raises(TypeError):
        run(42)


def test_running_an_effect_directly_is_unhandled():
    with pytest.raises(kont.UnhandledEffect):
        run(A())
