"""Resource limits and deep nesting. The deep runs go in a subprocess so a
native crash shows up as a failed test rather than killing pytest."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import kont
from kont import EffectBase, Resume, Transfer, do, handler, run


class A(EffectBase):
    pass


@handler
def handle_a(effect: A, k):
    return (yield Resume(k, 1))


@do
def chain(n):
    if n == 0:
        return 0
    return 1 + (yield chain(n - 1))


def _run_script(body: str, timeout: float = 240) -> subprocess.CompletedProcess:
    src = textwrap.dedent(
        """
        import kont
        from kont import EffectBase, Resume, do, handler, WithHandler

        class A(EffectBase):
            pass

        class B(EffectBase):
            pass

        @handler
        def hb(effect: B, k):
            return (yield Resume(k, "b"))

        @handler
        def ha(effect: A, k):
            return (yield Resume(k, "a"))

        @do
        def chain(n):
            if n == 0:
                return 0
            return 1 + (yield chain(n - 1))
        """
    ) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=timeout)


def _assert_clean(proc: subprocess.CompletedProcess, expected_stdout: str) -> None:
    assert proc.returncode == 0, f"rc={proc.returncode} (a negative rc is a signal: a crash)\n{proc.stderr[-2000:]}"
    assert proc.stdout.strip() == expected_stdout


def test_100k_directly_nested_withhandlers_complete():
    proc = _run_script(
        """
        @do
        def body():
            return ((yield A()), (yield B()))

        p = body()
        for _ in range(100_000):
            p = hb(p)
        p = ha(p)
        print(kont.run(p))
        """
    )
    _assert_clean(proc, "('a', 'b')")


def test_100k_directly_nested_mixed_boundaries_complete():
    proc = _run_script(
        """
        from kont import WithIntercept, WithObserve

        seen = [0]

        def watch(effect):
            seen[0] += 1

        def same(effect):
            return effect

        @do
        def body():
            return ((yield A()), (yield B()))

        p = body()
        for i in range(100_000):
            m = i % 3
            if m == 0:
                p = hb(p)
            elif m == 1:
                p = WithObserve(watch, p, types=A)
            else:
                p = WithIntercept(same, p, types=A)
        print(kont.run(ha(p)), seen[0])
        """
    )
    # A passes every boundary on its way to ha: each observer sees it once;
    # B is handled by the innermost hb, so no observer sees it
    _assert_clean(proc, "('a', 'b') 33333")


def test_100k_nested_withhandlers_through_do_wrappers_complete():
    proc = _run_script(
        """
        @do
        def body():
            return ((yield A()), (yield B()))

        @do
        def wrap(p):
            return (yield hb(p))

        p = body()
        for _ in range(100_000):
            p = wrap(p)
        p = ha(p)
        print(kont.run(p))
        """
    )
    _assert_clean(proc, "('a', 'b')")


def test_million_deep_sub_program_chain_completes_or_exhausts_cleanly():
    proc = _run_script(
        """
        try:
            v = kont.run(chain(1_000_000))
            print("value", v)
        except kont.ExhaustedError as e:
            print("exhausted", e.resource)
        """
    )
    assert proc.returncode == 0, f"rc={proc.returncode}\n{proc.stderr[-2000:]}"
    assert proc.stdout.strip() in ("value 1000000", "exhausted depth")


def test_deep_chain_under_a_handler_with_effect_at_the_bottom():
    proc = _run_script(
        """
        @do
        def dchain(n):
            if n == 0:
                return (yield A())
            return (yield dchain(n - 1))

        print(kont.run(ha(dchain(200_000))))
        """
    )
    _assert_clean(proc, "a")


def test_depth_limit():
    assert run(chain(100), depth=1000) == 100
    with pytest.raises(kont.ExhaustedError) as ei:
        run(chain(100), depth=50)
    assert ei.value.resource == "depth"
    assert isinstance(ei.value, RuntimeError)


def test_fuel_limit_on_an_infinite_loop():
    @do
    def forever():
        n = 0
        while True:
            n += yield A()

    with pytest.raises(kont.ExhaustedError) as ei:
        run(handle_a(forever()), fuel=10_000)
    assert ei.value.resource == "fuel"


def test_exhaustion_is_not_raised_into_the_program():
    seen = []

    @do
    def forever():
        try:
            while True:
                yield A()
        except Exception as e:  # noqa: BLE001
            seen.append(e)
            return "caught"

    with pytest.raises(kont.ExhaustedError):
        run(handle_a(forever()), fuel=500)
    assert seen == []


def test_run_traced_reports_exhaustion_as_error():
    rep = kont.run_traced(chain(100), depth=20)
    assert isinstance(rep.error, kont.ExhaustedError)
    assert rep.error.resource == "depth"
    assert rep.value is None


def test_fuel_counts_steps():
    rep = kont.run_traced(handle_a(chain(10)))
    assert rep.error is None and rep.value == 10
    with pytest.raises(kont.ExhaustedError):
        run(handle_a(chain(10)), fuel=rep.steps - 1)
    assert run(handle_a(chain(10)), fuel=rep.steps) == 10


def test_runs_after_exhaustion_are_fine():
    with pytest.raises(kont.ExhaustedError):
        run(chain(1000), depth=10)
    assert run(handle_a(chain(5))) == 5


@handler
def transfer_one(effect: A, k):
    yield Transfer(k, 1)


@do
def perform_loop(n):
    t = 0
    for _ in range(n):
        t += yield A()
    return t


def test_transfer_in_a_loop_runs_in_constant_depth():
    assert run(transfer_one(perform_loop(10_000)), depth=20) == 10_000


def test_million_non_tail_resumes_complete_or_exhaust_cleanly():
    # each clause waits in its Resume for the rest of the body: a million
    # suspended clause generators at the end
    proc = _run_script(
        """
        @do
        def loop(n):
            t = 0
            for _ in range(n):
                t += yield A()
            return t

        @handler
        def one(effect: A, k):
            return (yield Resume(k, 1))

        try:
            print("value", kont.run(one(loop(1_000_000)), trace=False))
        except kont.ExhaustedError as e:
            print("exhausted", e.resource)
        """
    )
    assert proc.returncode == 0, f"rc={proc.returncode}\n{proc.stderr[-2000:]}"
    assert proc.stdout.strip() in ("value 1000000", "exhausted depth")


def test_sequential_sub_calls_do_not_grow_depth():
    @do
    def sub():
        return (yield A())

    @do
    def calls(n):
        t = 0
        for _ in range(n):
            t += yield sub()
        return t

    assert run(transfer_one(calls(10_000)), depth=20) == 10_000


def test_memory_limit_ends_the_run():
    # The driver (the standard prelude, SPEC.md section 14.8) builds kont
    # lists before the program starts: with no memory at all it cannot.
    assert run(chain(10)) == 10
    with pytest.raises(kont.ExhaustedError) as ei:
        run(chain(10), memory=0)
    assert ei.value.resource == "memory"
    rep = kont.run_traced(chain(10), memory=0)
    assert isinstance(rep.error, kont.ExhaustedError) and rep.error.resource == "memory"
