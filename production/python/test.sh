#!/usr/bin/env bash
# Build the kont Python extension into a virtual environment (release, with
# maturin) and run its pytest suite. Used by README's test command.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${KONT_VENV:-$root/.venv}"
py="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "maturin>=1.9,<2" "pytest>=7"
"$venv/bin/maturin" develop --release -q -m "$root/production/python/Cargo.toml"
cd "$root/production/python"
exec "$venv/bin/python" -m pytest -q "$@"
