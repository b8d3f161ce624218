"""W2 with doeff 0.8.0. Usage: w2.py N D
W1 with D handlers for other effect classes between the perform and the Inc
handler. Checksum as W1."""
import sys

from doeff import EffectBase, Transfer, do, handler, run


class Inc(EffectBase):
    def __init__(self, x):
        super().__init__()
        self.x = x


def other_handler(j):
    cls = type(f"Other{j}", (EffectBase,), {})

    def clause(effect, k):
        yield Transfer(k, None)

    clause.__annotations__ = {"effect": cls}
    return handler(clause)


@handler
def tail(effect: Inc, k):
    yield Transfer(k, effect.x + 1)


@do
def body(n):
    acc = 0
    for i in range(n, 0, -1):
        acc += yield Inc(i)
    return acc


n, d = int(sys.argv[1]), int(sys.argv[2])
prog = body(n)
for j in range(d):
    prog = other_handler(j)(prog)
print(run(tail(prog)))
