"""kont's rendered tracebacks on Python errors, against reviewed snapshots
(`snapshots/*.txt`). Set KONT_UPDATE_SNAPSHOTS=1 to rewrite them; review the
diff before committing it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import kont
from kont import EffectBase, Resume, ResumeThrow, WithHandler, do, handler

SNAPSHOTS = Path(__file__).parent / "snapshots"


class Ask(EffectBase):
    def __init__(self, key: str) -> None:
        self.key = key


class Log(EffectBase):
    def __init__(self, text: str) -> None:
        self.text = text


@handler
def answer(effect: Ask, k):
    return (yield Resume(k, len(effect.key)))


@handler
def failing_logger(effect: Log, k):
    raise ValueError(f"cannot log {effect.text!r}")
    yield  # a generator


@handler
def throw_back(effect: Ask, k):
    return (yield ResumeThrow(k, KeyError(effect.key)))


@do
def leaf(key):
    n = yield Ask(key)
    yield Log(f"got {n}")  # nobody handles Log in the first scenario
    return n


@do
def middle():
    a = yield leaf("x")
    return a


def note_of(program) -> str:
    with pytest.raises(BaseException) as info:
        kont.run(program)
    notes = getattr(info.value, "__notes__", [])
    assert len(notes) == 1, notes
    return f"{type(info.value).__name__}: {info.value}\n{notes[0]}\n"


def check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("KONT_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
    assert path.exists(), f"no snapshot {path}: run with KONT_UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text()


def test_unhandled_effect_two_calls_deep():
    # The Log performed in `leaf` reaches nobody: raised at its yield, it
    # leaves through `middle` and the `answer` boundary.
    check("unhandled_two_calls_deep", note_of(answer(middle())))


def test_exception_raised_by_a_handler_clause():
    # The clause's error leaves its WithHandler (C-Raise): the traceback says
    # which handler threw on which dispatch.
    check("clause_raises", note_of(failing_logger(answer(middle()))))


def test_resume_throw_into_a_body_that_does_not_catch():
    check("resume_throw_uncaught", note_of(WithHandler(throw_back, middle())))
