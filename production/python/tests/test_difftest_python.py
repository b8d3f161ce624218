"""The difftest's `python` engine (difftest/src/python/): the corpus's
translatable cases and a small campaign, translated to Python programs on
this package, must agree with the reference. Runs the Rust test
`difftest/tests/python_engine.rs` with this interpreter, so it never skips
once the package is built (README's test command builds it first)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_python_engine_agrees_with_the_reference():
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is not on PATH")
    env = dict(os.environ, KONT_PYTHON=sys.executable, KONT_PYTHON_REQUIRED="1")
    r = subprocess.run(
        [cargo, "test", "-q", "-p", "kont-difftest", "--test", "python_engine"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
