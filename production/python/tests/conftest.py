"""Shared helpers for the kont test suite."""

from __future__ import annotations

import inspect

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than 30 s")


def line_of(marker: str, fn=None) -> int:
    """The line number (in the caller's file) of the line holding ``marker``
    as a comment, e.g. ``# @perform-inc``. Exactly one such line must exist."""
    frame = inspect.stack()[1]
    with open(frame.filename, encoding="utf-8") as f:
        lines = [i + 1 for i, text in enumerate(f) if text.rstrip().endswith("# " + marker)]
    assert len(lines) == 1, (marker, lines)
    return lines[0]
