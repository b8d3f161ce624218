#!/bin/sh
# Check the peers of the W1–W4 suite and install the missing ones; prints
# what is present and what is still missing (run.py records missing peers too).
#   sh production/benches/peers/install.sh            # check and install
#   sh production/benches/peers/install.sh --check    # check only
# OCaml 5.3 builds from the compiler source published as the npm package
# ocaml@5.3.0 (about 10–20 minutes on one core); Lua 5.4, LuaJIT and Guile 3.0
# are Debian packages; doeff 0.8.0 goes in its own virtual environment.
set -u
OCAML_PREFIX=${OCAML_PREFIX:-/opt/ocaml-5.3}
DOEFF_VENV=${DOEFF_VENV:-/work/venvs/doeff}
check_only=${1:-}
missing=0

have() { command -v "$1" >/dev/null 2>&1; }
report() { if [ "$2" = ok ]; then echo "present: $1"; else echo "MISSING: $1 ($2)"; missing=$((missing + 1)); fi; }

if [ "$check_only" != --check ]; then
    pkgs=""
    have lua5.4 || pkgs="$pkgs lua5.4"
    have luajit || pkgs="$pkgs luajit"
    have guile || pkgs="$pkgs guile-3.0"
    if [ -n "$pkgs" ]; then apt-get install -y $pkgs >/dev/null || echo "apt-get install$pkgs failed"; fi
    if [ ! -x "$OCAML_PREFIX/bin/ocamlopt" ] && have npm; then
        work=$(mktemp -d)
        (cd "$work" && npm pack ocaml@5.3.0 >/dev/null && tar xzf ocaml-5.3.0.tgz && cd package \
            && nice ./configure --prefix="$OCAML_PREFIX" >/dev/null && nice make -j1 >/dev/null \
            && make install >/dev/null) || echo "OCaml 5.3 build failed (in $work)"
    fi
    if [ ! -x "$DOEFF_VENV/bin/python" ]; then
        python3.11 -m venv "$DOEFF_VENV" && "$DOEFF_VENV/bin/pip" install -q doeff==0.8.0 \
            || echo "doeff install failed"
    fi
fi

if [ -x "$OCAML_PREFIX/bin/ocamlopt" ]; then report "OCaml $("$OCAML_PREFIX/bin/ocamlopt" -version) ($OCAML_PREFIX)" ok
else report "OCaml 5.3" "no $OCAML_PREFIX/bin/ocamlopt"; fi
for exe in lua5.4 luajit guile; do
    if have $exe; then report "$exe ($($exe -v 2>&1 | head -n 1))" ok; else report "$exe" "not on PATH"; fi
done
if python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then report "CPython $(python3 -V 2>&1)" ok
else report "CPython 3.11" "python3 is $(python3 -V 2>&1)"; fi
if [ -x "$DOEFF_VENV/bin/python" ] && "$DOEFF_VENV/bin/python" -c 'import doeff' 2>/dev/null; then
    report "doeff $("$DOEFF_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("doeff"))')" ok
else report "doeff 0.8.0" "no $DOEFF_VENV with doeff"; fi
echo "$missing missing"
