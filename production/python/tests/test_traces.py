"""kont.run_traced: events with canonical ids, tracebacks, steps."""

from __future__ import annotations

import pytest

import kont
from kont import (
    EffectBase,
    Pass,
    Resume,
    ResumeThrow,
    Transfer,
    WithIntercept,
    WithObserve,
    do,
    handler,
)

from conftest import line_of


class Inc(EffectBase):
    def __init__(self, n):
        self.n = n


class Other(EffectBase):
    def __init__(self, n):
        self.n = n


@handler
def add_one(effect: Inc, k):
    return (yield Resume(k, effect.n + 1))


@handler
def other_h(effect: Other, k):
    return (yield Resume(k, effect.n))


@handler
def jump(effect: Inc, k):
    yield Transfer(k, effect.n * 2)


@handler
def dropper(effect: Inc, k):
    return "dropped"
    yield


@handler
def passer(effect: Inc, k):
    yield Pass(Inc(effect.n + 1), k)


@handler
def thrower(effect: Inc, k):
    return (yield ResumeThrow(k, ValueError("boom")))


@do
def inc_main():
    return (yield Inc(41))  # @inc-main


@do
def two_incs():
    a = yield Inc(1)  # @two-1
    b = yield Inc(2)  # @two-2
    return a + b


@do
def catcher():
    try:
        yield Inc(0)  # @catcher
    except ValueError:
        return "caught"
    return "no"


def test_simple_trace_exact():
    rep = kont.run_traced(add_one(inc_main()))
    assert rep.value == 42
    assert rep.error is None
    assert rep.traceback is None
    line = line_of("@inc-main")
    assert rep.events == [
        'install s1 handler "add_one"',
        f"perform d1 Inc #<n=41> @test_traces.py:{line}",
        "handle d1 s1 k1",
        "resume k1 42",
        "return d1 s1 42",
    ]


def test_ids_are_canonical_per_run():
    first = kont.run_traced(add_one(two_incs())).events
    second = kont.run_traced(add_one(two_incs())).events
    assert first == second
    assert f"perform d2 Inc #<n=2> @test_traces.py:{line_of('@two-2')}" in first
    assert "handle d2 s1 k2" in first
    assert "resume k2 3" in first
    # the second dispatch is inside the first's resume: it returns first
    assert first[-2:] == ["return d2 s1 5", "return d1 s1 5"]


def test_skip_event_for_a_non_matching_boundary():
    rep = kont.run_traced(add_one(other_h(inc_main())))
    assert rep.value == 42
    assert rep.events[:2] == ['install s1 handler "add_one"', 'install s2 handler "other_h"']
    assert rep.events[3:5] == ["skip d1 s2", "handle d1 s1 k1"]


def test_transfer_event():
    rep = kont.run_traced(jump(inc_main()))
    assert rep.value == 82
    assert rep.events[2:] == ["handle d1 s1 k1", "transfer k1 82"]


def test_abandon_event():
    rep = kont.run_traced(dropper(inc_main()))
    assert rep.value == "dropped"
    assert rep.events[-2:] == ["handle d1 s1 k1", 'return d1 s1 "dropped"']


def test_pass_event_and_new_continuation_for_the_next_handler():
    rep = kont.run_traced(add_one(passer(inc_main())))
    assert rep.value == 43
    ev = rep.events
    assert ev[3:] == [
        "handle d1 s2 k1",
        "pass d1 s2 k1 -> Inc #<n=42>",
        "handle d1 s1 k2",
        "resume k2 43",
        "return d1 s1 43",
    ]


def test_resume_throw_event():
    rep = kont.run_traced(thrower(catcher()))
    assert rep.value == "caught"
    assert 'resume k1 throw (error "ValueError" "boom")' in rep.events


def test_intercept_and_observe_events():
    def to_other(effect):
        return Other(effect.n + 1)

    def watch(effect):
        return None

    rep = kont.run_traced(other_h(WithObserve(watch, WithIntercept(to_other, inc_main(), types=Inc))))
    assert rep.value == 42
    ev = rep.events
    assert ev[:3] == ['install s1 handler "other_h"', 'install s2 observe "observe"', 'install s3 intercept "intercept"']
    assert ev[4:] == [
        "intercept d1 s3 -> Other #<n=42>",
        "observe d1 s2",
        "handle d1 s1 k1",
        "resume k1 42",
        "return d1 s1 42",
    ]


def test_unhandled_trace_and_traceback():
    rep = kont.run_traced(inc_main())
    assert rep.value is None
    assert isinstance(rep.error, kont.UnhandledEffect)
    line = line_of("@inc-main")
    assert rep.events[:2] == [f"perform d1 Inc #<n=41> @test_traces.py:{line}", "unhandled d1"]
    assert isinstance(rep.traceback, str)
    assert f"test_traces.py:{line}" in rep.traceback
    assert "unhandled" in rep.traceback


def test_run_traced_never_raises_for_program_errors():
    @do
    def main():
        yield Inc(1)
        raise KeyError("k")

    rep = kont.run_traced(add_one(main()))
    assert isinstance(rep.error, KeyError)
    assert rep.value is None
    assert rep.traceback is not None


def test_python_raise_event_has_site():
    @do
    def main():
        yield Inc(1)
        raise KeyError("k")  # @raise-site

    rep = kont.run_traced(add_one(main()))
    line = line_of("@raise-site")
    raises = [e for e in rep.events if e.startswith("raise ")]
    assert raises and raises[0].endswith(f"@test_traces.py:{line}")
    assert "KeyError" in raises[0]


def test_run_error_note_is_the_report_traceback():
    rep = kont.run_traced(inc_main())
    with pytest.raises(kont.UnhandledEffect) as ei:
        kont.run(inc_main())
    notes = ei.value.__notes__
    assert len(notes) == 1
    assert notes[0] == "kont " + rep.traceback.rstrip()


def test_steps_are_counted_and_deterministic():
    a = kont.run_traced(add_one(two_incs()))
    b = kont.run_traced(add_one(two_incs()))
    assert a.steps > 0
    assert a.steps == b.steps
    more = kont.run_traced(add_one(inc_main()))
    assert a.steps > more.steps  # two performs take more steps than one


def test_fuel_is_exact():
    steps = kont.run_traced(add_one(two_incs())).steps
    assert kont.run(add_one(two_incs()), fuel=steps) == 5
    with pytest.raises(kont.ExhaustedError) as ei:
        kont.run(add_one(two_incs()), fuel=steps - 1)
    assert ei.value.resource == "fuel"


def test_untraced_run_records_nothing():
    rep = kont.run_report(add_one(two_incs()), trace=False)
    assert rep.value == 5
    assert rep.events == []


@do
def inc_then_raise():
    x = yield Inc(1)
    raise ValueError("v" + str(x))  # @body-raise


def test_error_crossing_a_boundary_and_the_clause():
    @do
    def top():
        try:
            yield add_one(inc_then_raise())
        except ValueError:
            return "caught"
        return "no"

    rep = kont.run_traced(top())
    assert rep.value == "caught"
    line = line_of("@body-raise")
    i = rep.events.index("resume k1 2")
    # the body's error leaves s1 (inside k1), reaches the clause's Resume,
    # which does not catch it: the clause threw
    assert rep.events[i + 1 :] == [
        f'raise (error "ValueError" "v2") @test_traces.py:{line}',
        'unwind s1 (error "ValueError" "v2")',
        'threw d1 s1 (error "ValueError" "v2")',
    ]


@handler
def failing(effect: Inc, k):
    raise ValueError("h")  # @clause-raise
    yield


def test_clause_error_events_and_traceback():
    rep = kont.run_traced(failing(inc_then_raise()))
    assert isinstance(rep.error, ValueError)
    line = line_of("@clause-raise")
    assert rep.events[2:] == [
        "handle d1 s1 k1",
        f'raise (error "ValueError" "h") @test_traces.py:{line}',
        'threw d1 s1 (error "ValueError" "h")',
    ]
    assert f"test_traces.py:{line}" in rep.traceback
    assert '"failing"' in rep.traceback
