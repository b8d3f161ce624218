"""Effects, @do programs and the basics of running them."""

from __future__ import annotations

import pytest

import kont
from kont import EffectBase, Program, Resume, WithHandler, do, handler, run


class Ask(EffectBase):
    def __init__(self, key):
        self.key = key


class Tell(EffectBase):
    def __init__(self, msg):
        self.msg = msg


@handler
def answer(effect: Ask, k):
    return (yield Resume(k, f"<{effect.key}>"))


def test_yield_performs_an_effect():
    @do
    def main():
        a = yield Ask("x")
        b = yield Ask("y")
        return a + b

    assert run(answer(main())) == "<x><y>"


def test_yield_from_performs_an_effect():
    @do
    def main():
        a = yield from Ask("x")
        return "got " + a

    assert run(answer(main())) == "got <x>"


def test_effect_alias():
    assert kont.Effect is EffectBase


def test_do_is_lazy_and_each_run_starts_afresh():
    calls = []

    @do
    def main(tag):
        calls.append(tag)
        n = len(calls)
        x = yield Ask(tag)
        return (n, x)

    prog = main("p")
    assert isinstance(prog, Program)
    assert calls == []  # building the program ran nothing
    assert run(answer(prog)) == (1, "<p>")
    assert run(answer(prog)) == (2, "<p>")  # the same program, started again
    assert calls == ["p", "p"]


def test_program_repr_names_the_function():
    @do
    def my_prog():
        return 1
        yield

    assert "my_prog" in repr(my_prog())


def test_yield_sub_program_calls_it():
    @do
    def double(x):
        y = yield Ask(x)
        return y * 2

    @do
    def main():
        a = yield double("a")
        b = yield double("b")
        return [a, b]

    assert run(answer(main())) == ["<a><a>", "<b><b>"]


def test_kwargs_reach_the_function():
    @do
    def f(a, *, b=0):
        return a - b
        yield

    @do
    def main():
        return (yield f(10, b=3))

    assert run(main()) == 7


def test_plain_do_function_returns_its_value():
    @do
    def plain(x):
        return x * 3

    @do
    def main():
        v = yield plain(5)
        return v + 1

    assert run(main()) == 16
    assert run(plain(4)) == 12


def test_program_without_effects():
    @do
    def main():
        if False:
            yield
        return "done"

    assert run(main()) == "done"


def test_return_none():
    @do
    def main():
        yield Ask("x")

    assert run(answer(main())) is None


def test_values_are_the_same_objects():
    payload = object()

    @handler
    def give(effect: Ask, k):
        return (yield Resume(k, payload))

    @do
    def main():
        got = yield Ask("x")
        return got

    assert run(give(main())) is payload


def test_run_refuses_an_uncalled_do_function():
    @do
    def main():
        return 1
        yield

    with pytest.raises(TypeError):
        run(main)


def test_do_refuses_async_functions():
    async def f():
        return 1

    with pytest.raises(TypeError):
        do(f)


def test_deep_sub_program_chain_small():
    @do
    def count(n):
        if n == 0:
            return 0
        return 1 + (yield count(n - 1))

    assert run(count(1000)) == 1000


def test_many_effects_in_a_loop():
    @handler
    def inc(effect: Tell, k):
        return (yield Resume(k, effect.msg + 1))

    @do
    def main():
        n = 0
        for _ in range(10_000):
            n = yield Tell(n)
        return n

    assert run(inc(main())) == 10_000


def test_withhandler_node_directly_as_run_entry():
    @do
    def main():
        return (yield Ask("z"))

    def h(effect: Ask, k):
        return Resume(k, 1)

    assert run(WithHandler(h, main())) == 1


def test_exception_objects_are_plain_values_when_resumed_or_returned():
    exc = ValueError("as a value")

    @handler
    def give(effect: Ask, k):
        return (yield Resume(k, exc))

    @do
    def sub():
        return exc
        yield

    @do
    def main():
        v = yield Ask("x")
        w = yield sub()
        return (v is exc, w is exc)

    assert run(give(main())) == (True, True)
    assert run(sub()) is exc


def test_handler_receives_the_performed_effect_object():
    eff = Ask("same")

    @handler
    def check(effect: Ask, k):
        return (yield Resume(k, effect is eff))

    @do
    def main():
        return (yield eff)

    assert run(check(main())) is True


def test_yield_from_a_program():
    @do
    def sub():
        return (yield Ask("s"))

    @do
    def main():
        v = yield from sub()
        return "sub gave " + v

    assert run(answer(main())) == "sub gave <s>"
