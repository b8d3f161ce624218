"""Handlers: installation, type filters, Resume/Transfer/throw forms, Pass,
re-performing, and the errors and values of clauses."""

from __future__ import annotations

import functools
from typing import Union

import pytest

import kont
from kont import (
    EffectBase,
    Pass,
    Resume,
    ResumeThrow,
    Transfer,
    TransferThrow,
    WithHandler,
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


class C(EffectBase):
    pass


class SubA(A):
    pass


@do
def perform(eff):
    return (yield eff)


# --- decoration -----------------------------------------------------------


def test_handler_refuses_a_lambda():
    with pytest.raises(TypeError):
        handler(lambda e, k: None)


def test_handler_refuses_one_positional_param():
    def one(effect):
        return None

    with pytest.raises(TypeError):
        handler(one)


def test_handler_refuses_keyword_only_second_param():
    def kw(effect, *, k):
        return None

    with pytest.raises(TypeError):
        handler(kw)


@pytest.mark.parametrize("ann", [int, str, float, bytes, bool, dict, list, tuple, type(None), ValueError])
def test_handler_refuses_non_effect_annotations(ann):
    def h(effect, k):
        return None

    h.__annotations__ = {"effect": ann}
    with pytest.raises(TypeError):
        handler(h)


def test_handler_refuses_union_with_a_non_effect():
    def h(effect: Union[A, int], k):
        return None

    with pytest.raises(TypeError):
        handler(h)


def test_handler_refuses_callable_object():
    class H:
        def __call__(self, effect, k):
            return None

    with pytest.raises(TypeError):
        handler(H())


def test_quoted_annotation_under_future_annotations():
    # this module has `from __future__ import annotations`, so the annotation
    # is the string "'A'"; the handler must still take only A.
    def h(effect: "A", k):
        return "took " + type(effect).__name__

    @do
    def main():
        yield B()
        return "unreached"

    with pytest.raises(kont.UnhandledEffect):
        run(WithHandler(h, main()))


def test_handler_installer_builds_withhandler():
    @handler
    def h(effect: A, k):
        return None

    @do
    def main():
        return 1
        yield

    node = h(main())
    assert isinstance(node, WithHandler)
    assert node.types == (A,)
    assert h.__name__ == "h"


def test_handler_string_annotation_resolves():
    # compiled without this module's `from __future__ import annotations`
    src = "def h(effect: 'A', k):\n    return 'took ' + type(effect).__name__\n"
    ns = {"A": A}
    exec(compile(src, "<h>", "exec", dont_inherit=True), ns)
    h = handler(ns["h"])

    @do
    def main():
        yield B()
        return "unreached"

    with pytest.raises(kont.UnhandledEffect):
        run(h(main()))

    @do
    def main2():
        yield A()
        return "unreached"

    assert run(h(main2())) == "took A"


# --- handler kinds ----------------------------------------------------------


def test_handler_decorated_generator_resumes():
    @handler
    def h(effect: A, k):
        return (yield Resume(k, effect.n * 10))

    assert run(h(perform(A(4)))) == 40


def test_do_function_as_handler():
    @do
    def h(effect: A, k):
        return (yield Resume(k, effect.n + 100))

    assert run(WithHandler(h, perform(A(1)))) == 101


def test_plain_function_handler_returning_resume():
    def h(effect: A, k):
        return Resume(k, effect.n - 1)

    @do
    def main():
        x = yield A(10)
        return ("body", x)

    assert run(WithHandler(h, main())) == ("body", 9)


def test_plain_function_handler_returning_transfer():
    def h(effect: A, k):
        return Transfer(k, "t")

    assert run(WithHandler(h, perform(A()))) == "t"


def test_plain_function_handler_returning_value_abandons():
    log = []

    def h(effect: A, k):
        return "abandoned"

    @do
    def main():
        log.append("before")
        yield A()
        log.append("after")
        return "body"

    assert run(WithHandler(h, main())) == "abandoned"
    assert log == ["before"]


def test_partial_handler():
    def h(extra, effect, k):
        return Resume(k, extra + effect.n)

    assert run(WithHandler(functools.partial(h, 5), perform(A(2)))) == 7


def test_withhandler_refuses_a_non_callable():
    with pytest.raises(TypeError):
        WithHandler(42, perform(A()))


# --- type filter ------------------------------------------------------------


def _tagging(tag):
    def h(effect, k):
        return Resume(k, tag)

    return h


def test_type_filter_skips_other_effects():
    @handler
    def only_a(effect: A, k):
        return (yield Resume(k, "inner-a"))

    @handler
    def anything(effect, k):
        return (yield Resume(k, "outer-" + type(effect).__name__))

    @do
    def main():
        return [(yield A()), (yield B()), (yield C())]

    assert run(anything(only_a(main()))) == ["inner-a", "outer-B", "outer-C"]


def test_subclasses_match():
    @handler
    def only_a(effect: A, k):
        return (yield Resume(k, type(effect).__name__))

    assert run(only_a(perform(SubA()))) == "SubA"


def test_subclass_handler_does_not_take_base():
    @handler
    def only_sub(effect: SubA, k):
        return (yield Resume(k, "sub"))

    @handler
    def outer(effect: A, k):
        return (yield Resume(k, "outer"))

    @do
    def main():
        return ((yield A()), (yield SubA()))

    assert run(outer(only_sub(main()))) == ("outer", "sub")


def test_union_annotation_typing_union():
    @handler
    def ab(effect: Union[A, B], k):
        return (yield Resume(k, "ab"))

    @handler
    def rest(effect, k):
        return (yield Resume(k, "rest"))

    @do
    def main():
        return [(yield A()), (yield B()), (yield C())]

    assert run(rest(ab(main()))) == ["ab", "ab", "rest"]


def test_union_annotation_pipe():
    @handler
    def bc(effect: B | C, k):
        return (yield Resume(k, "bc"))

    @handler
    def rest(effect, k):
        return (yield Resume(k, "rest"))

    @do
    def main():
        return [(yield A()), (yield B()), (yield C())]

    assert run(rest(bc(main()))) == ["rest", "bc", "bc"]


def test_tuple_annotation():
    def h(effect, k):
        return Resume(k, "tuple")

    h.__annotations__ = {"effect": (A, C)}

    @handler
    def rest(effect, k):
        return (yield Resume(k, "rest"))

    @do
    def main():
        return [(yield A()), (yield B()), (yield C())]

    assert run(rest(WithHandler(h, main()))) == ["tuple", "rest", "tuple"]


def test_effectbase_annotation_takes_everything():
    @handler
    def all_(effect: EffectBase, k):
        return (yield Resume(k, type(effect).__name__))

    @do
    def main():
        return [(yield A()), (yield B())]

    assert run(all_(main())) == ["A", "B"]


def test_innermost_matching_handler_wins():
    @handler
    def outer(effect: A, k):
        return (yield Resume(k, "outer"))

    @handler
    def inner(effect: A, k):
        return (yield Resume(k, "inner"))

    assert run(outer(inner(perform(A())))) == "inner"


# --- Resume -----------------------------------------------------------------


def test_resume_is_non_tail():
    log = []

    @handler
    def h(effect: A, k):
        log.append("h-before")
        r = yield Resume(k, effect.n + 1)
        log.append(("h-after", r))
        return ("h", r)

    @do
    def main():
        x = yield A(1)
        log.append(("body", x))
        return x * 10

    assert run(h(main())) == ("h", 20)
    assert log == ["h-before", ("body", 2), ("h-after", 20)]


def test_resume_value_covers_rest_up_to_boundary_with_later_effects():
    # each clause's resume gets the rest of the body up to the boundary,
    # which includes the later effects and their clauses.
    @handler
    def h(effect: A, k):
        r = yield Resume(k, effect.n)
        return [effect.n] + r

    @do
    def main():
        yield A(1)
        yield A(2)
        yield A(3)
        return []

    assert run(h(main())) == [1, 2, 3]


def test_deep_handler_handles_every_effect_of_the_body():
    seen = []

    @handler
    def h(effect: A, k):
        seen.append(effect.n)
        return (yield Resume(k, effect.n))

    @do
    def main():
        total = 0
        for i in range(5):
            total += yield A(i)
        return total

    assert run(h(main())) == 10
    assert seen == [0, 1, 2, 3, 4]


# --- Transfer ---------------------------------------------------------------


def test_transfer_closes_handler_before_continuing():
    log = []

    @handler
    def h(effect: A, k):
        try:
            yield Transfer(k, "t")
            log.append("unreachable")
        finally:
            log.append("h-finally")

    @do
    def main():
        x = yield A()
        log.append(("body", x))
        return x + "!"

    assert run(h(main())) == "t!"
    assert log == ["h-finally", ("body", "t")]


def test_transfer_result_is_the_withhandler_value():
    @handler
    def h(effect: A, k):
        yield Transfer(k, effect.n)

    @do
    def main():
        a = yield A(1)
        b = yield A(2)
        return a + b

    @do
    def top():
        v = yield h(main())
        return ("top", v)

    assert run(top()) == ("top", 3)


def test_transfer_in_loop_many_times():
    @handler
    def h(effect: A, k):
        yield Transfer(k, effect.n + 1)

    @do
    def main():
        n = 0
        for _ in range(20_000):
            n = yield A(n)
        return n

    assert run(h(main())) == 20_000


# --- throw forms ------------------------------------------------------------


def test_resume_throw_raises_at_perform_and_is_catchable():
    @handler
    def h(effect: A, k):
        r = yield ResumeThrow(k, ValueError("boom"))
        return ("h", r)

    @do
    def main():
        try:
            yield A()
        except ValueError as e:
            return "caught " + str(e)
        return "not caught"

    assert run(h(main())) == ("h", "caught boom")


def test_resume_throw_same_exception_object():
    exc = KeyError("k")
    got = []

    @handler
    def h(effect: A, k):
        return (yield ResumeThrow(k, exc))

    @do
    def main():
        try:
            yield A()
        except KeyError as e:
            got.append(e)
        return "ok"

    assert run(h(main())) == "ok"
    assert got[0] is exc


def test_resume_throw_uncaught_comes_back_to_the_resume_yield():
    @handler
    def h(effect: A, k):
        try:
            yield ResumeThrow(k, ValueError("boom"))
        except ValueError as e:
            return "handler caught " + str(e)
        return "no"

    @do
    def main():
        yield A()
        return "body"

    assert run(h(main())) == "handler caught boom"


def test_transfer_throw_raises_at_perform_and_closes_handler_first():
    log = []

    @handler
    def h(effect: A, k):
        try:
            yield TransferThrow(k, ValueError("tt"))
        finally:
            log.append("h-finally")

    @do
    def main():
        try:
            yield A()
        except ValueError as e:
            log.append(("caught", str(e)))
            return "recovered"
        return "no"

    assert run(h(main())) == "recovered"
    assert log == ["h-finally", ("caught", "tt")]


def test_transfer_throw_uncaught_leaves_the_withhandler():
    @handler
    def h(effect: A, k):
        yield TransferThrow(k, ValueError("tt"))

    @do
    def main():
        yield A()
        return "body"

    @do
    def top():
        try:
            yield h(main())
        except ValueError as e:
            return "outside " + str(e)
        return "no"

    assert run(top()) == "outside tt"


def test_resume_throw_runs_body_finally():
    log = []

    @handler
    def h(effect: A, k):
        try:
            yield ResumeThrow(k, RuntimeError("stop"))
        except RuntimeError:
            log.append("h-caught")
        return "done"

    @do
    def main():
        try:
            yield A()
        finally:
            log.append("body-finally")

    assert run(h(main())) == "done"
    assert log == ["body-finally", "h-caught"]


# --- abandoning and clause errors ------------------------------------------


def test_handler_return_without_k_is_the_withhandler_value():
    log = []

    @handler
    def h(effect: A, k):
        return ("handled", effect.n)
        yield

    @do
    def main():
        log.append("start")
        yield A(7)
        log.append("rest")
        return "body"

    @do
    def top():
        v = yield h(main())
        log.append(("top", v))
        return v

    assert run(top()) == ("handled", 7)
    assert log == ["start", ("top", ("handled", 7))]


def test_handler_error_propagates_out_of_withhandler_not_at_perform():
    @handler
    def h(effect: A, k):
        raise ValueError("from handler")
        yield

    @do
    def main():
        try:
            yield A()
        except ValueError:
            return "caught at perform site"
        return "no"

    @do
    def top():
        try:
            return (yield h(main()))
        except ValueError as e:
            return "caught outside: " + str(e)

    assert run(top()) == "caught outside: from handler"


def test_plain_handler_error_propagates_out_of_withhandler():
    def h(effect: A, k):
        raise KeyError("plain")

    @do
    def main():
        try:
            yield A()
        except KeyError:
            return "at perform"
        return "no"

    @do
    def top():
        try:
            return (yield WithHandler(h, main()))
        except KeyError:
            return "outside"

    assert run(top()) == "outside"


def test_handler_error_after_resume_propagates_out():
    @handler
    def h(effect: A, k):
        yield Resume(k, 1)
        raise ValueError("after")

    @do
    def main():
        try:
            return (yield A())
        except ValueError:
            return "at perform"

    @do
    def top():
        try:
            return (yield h(main()))
        except ValueError as e:
            return "outside " + str(e)

    assert run(top()) == "outside after"


# --- Pass -------------------------------------------------------------------


def test_pass_same_effect_outward():
    log = []

    @handler
    def outer(effect: A, k):
        log.append(("outer", effect.n))
        return (yield Resume(k, effect.n * 2))

    @handler
    def inner(effect: A, k):
        try:
            log.append("inner")
            yield Pass(effect, k)
            log.append("unreachable")
        finally:
            log.append("inner-finally")

    @do
    def main():
        x = yield A(21)
        log.append(("body", x))
        return x

    assert run(outer(inner(main()))) == 42
    assert log == ["inner", "inner-finally", ("outer", 21), ("body", 42)]


def test_pass_replacement_effect():
    @handler
    def outer_b(effect: B, k):
        return (yield Resume(k, ("B", effect.n)))

    @handler
    def inner(effect: A, k):
        yield Pass(B(effect.n + 1), k)

    assert run(outer_b(inner(perform(A(1))))) == ("B", 2)


def test_pass_then_outer_resumes_keep_inner_handler():
    # after a pass, the body's next A goes to the inner handler again
    seen = []

    @handler
    def outer(effect: A, k):
        seen.append(("outer", effect.n))
        return (yield Resume(k, "o"))

    @handler
    def inner(effect: A, k):
        seen.append(("inner", effect.n))
        if effect.n == 1:
            yield Pass(effect, k)
        return (yield Resume(k, "i"))

    @do
    def main():
        return [(yield A(1)), (yield A(2))]

    assert run(outer(inner(main()))) == ["o", "i"]
    assert seen == [("inner", 1), ("outer", 1), ("inner", 2)]


def test_pass_with_nobody_outside_is_unhandled():
    @handler
    def inner(effect: A, k):
        yield Pass(effect, k)

    @do
    def main():
        try:
            yield A()
        except kont.UnhandledEffect as e:
            return ("unhandled", type(e.effect).__name__)
        return "no"

    assert run(inner(main())) == ("unhandled", "A")


def test_plain_function_returning_pass():
    def inner(effect: A, k):
        return Pass(effect, k)

    @handler
    def outer(effect: A, k):
        return (yield Resume(k, "outer"))

    assert run(outer(WithHandler(inner, perform(A())))) == "outer"


# --- re-performing ----------------------------------------------------------


def test_handler_performs_another_effect_outward():
    @handler
    def outer_b(effect: B, k):
        return (yield Resume(k, effect.n * 100))

    @handler
    def inner_a(effect: A, k):
        v = yield B(effect.n)
        return (yield Resume(k, v + 1))

    assert run(outer_b(inner_a(perform(A(3))))) == 301


def test_handler_performing_its_own_effect_reaches_next_one_out():
    log = []

    @handler
    def outer(effect: A, k):
        log.append(("outer", effect.n))
        return (yield Resume(k, effect.n * 10))

    @handler
    def inner(effect: A, k):
        log.append(("inner", effect.n))
        v = yield A(effect.n + 1)
        return (yield Resume(k, v))

    assert run(outer(inner(perform(A(1))))) == 20
    assert log == [("inner", 1), ("outer", 2)]


def test_handler_performing_its_own_effect_with_nothing_outside_is_unhandled():
    @handler
    def h(effect: A, k):
        try:
            yield A(effect.n + 1)
        except kont.UnhandledEffect as e:
            return ("unhandled", e.effect.n)
        return "no"

    assert run(h(perform(A(1)))) == ("unhandled", 2)


def test_handler_does_not_see_handlers_inside_its_body():
    @handler
    def outer(effect: A, k):
        v = yield B()
        return (yield Resume(k, v))

    @handler
    def inner_b(effect: B, k):
        return (yield Resume(k, "inner-b"))

    @do
    def main():
        return (yield A())

    @do
    def top():
        try:
            return (yield outer(inner_b(main())))
        except kont.UnhandledEffect as e:
            return ("unhandled", type(e.effect).__name__)

    # the clause of `outer` runs outside its boundary: inner_b is not visible
    assert run(top()) == ("unhandled", "B")


def test_body_sees_handler_installed_inside_resumed_k():
    @handler
    def outer(effect: A, k):
        return (yield Resume(k, "a"))

    @handler
    def inner_b(effect: B, k):
        return (yield Resume(k, "b"))

    @do
    def main():
        return ((yield A()), (yield B()))

    assert run(outer(inner_b(main()))) == ("a", "b")


def test_partial_handler_filter_reads_the_effect_parameter():
    def h(extra: int, effect: A, k):
        return Resume(k, extra)

    @handler
    def outer_b(effect: B, k):
        return (yield Resume(k, "outer"))

    @do
    def main():
        return ((yield A()), (yield B()))

    assert run(outer_b(WithHandler(functools.partial(h, 5), main()))) == (5, "outer")
    assert handler(functools.partial(h, 7))(perform(A())) is not None


def test_bound_method_handler_filter():
    class Obj:
        def __init__(self, tag):
            self.tag = tag

        def meth(self, effect: B, k):
            return Resume(k, self.tag)

    @handler
    def outer_a(effect: A, k):
        return (yield Resume(k, "outer"))

    @do
    def main():
        return ((yield A()), (yield B()))

    assert run(outer_a(handler(Obj("m").meth)(main()))) == ("outer", "m")


def test_clause_effects_do_not_reach_interceptors_inside_its_body():
    seen = []

    def spy(effect):
        seen.append(type(effect).__name__)
        return effect

    @handler
    def a_via_b(effect: A, k):
        v = yield B()
        return (yield Resume(k, v))

    @handler
    def hb(effect: B, k):
        return (yield Resume(k, "b"))

    from kont import WithIntercept

    assert run(hb(a_via_b(WithIntercept(spy, perform(A()))))) == "b"
    assert seen == ["A"]  # the body's A on its way out; never the clause's B


def test_pass_observers_inside_not_consulted_again_and_new_k():
    from kont import WithObserve

    log = []
    ks = []

    @handler
    def passer(effect: A, k):
        ks.append(("passer", k.id))
        yield Pass(effect, k)

    @handler
    def final(effect: A, k):
        ks.append(("final", k.id))
        return (yield Resume(k, "f"))

    @do
    def body():
        return ((yield A()), (yield A()))

    prog = final(WithObserve(lambda e: log.append("out"), passer(WithObserve(lambda e: log.append("in"), body()))))
    assert run(prog) == ("f", "f")
    assert log == ["in", "out", "in", "out"]
    # the next handler gets a new continuation object each time
    assert ks == [("passer", 1), ("final", 2), ("passer", 3), ("final", 4)]


def test_handler_finally_raising_during_transfer_replaces_it():
    @handler
    def h(effect: A, k):
        try:
            yield Transfer(k, 1)
        finally:
            raise KeyError("cleanup")

    @do
    def body():
        try:
            x = yield A()
            return ("body", x)
        except KeyError:
            return "at perform"

    @do
    def top():
        try:
            return (yield h(body()))
        except KeyError:
            return "outside"

    assert run(top()) == "outside"


def test_transfer_from_a_helper_called_by_the_clause():
    # SPEC 10.6: the escape leaves the nearest clause activation; the
    # finally blocks between run first, innermost first
    log = []

    @do
    def helper(k):
        try:
            yield Transfer(k, 1)
        finally:
            log.append("helper-finally")

    @handler
    def h(effect: A, k):
        try:
            yield helper(k)
            log.append("unreached")
        finally:
            log.append("clause-finally")

    @do
    def main():
        x = yield A()
        log.append(("body", x))
        return x

    assert run(h(main())) == 1
    assert log == ["helper-finally", "clause-finally", ("body", 1)]


def test_pass_of_a_replacement_the_passer_also_takes_goes_outward():
    @do
    def helper(k):
        yield Pass(B(), k)

    @handler
    def ab(effect: A | B, k):
        if isinstance(effect, A):
            yield helper(k)
        return (yield Resume(k, "self"))

    @handler
    def outer(effect: B, k):
        return (yield Resume(k, "outer"))

    assert run(outer(ab(perform(A())))) == "outer"
