"""W1 / W1b with doeff 0.8.0. Usage: w1.py N [nontail]
The loop performs Inc(i) for i = N..1 and sums the answers (i+1); the handler
answers by Transfer (W1, tail) or returns 1 + Resume (W1b, non-tail)."""
import sys
import warnings

from doeff import EffectBase, Resume, Transfer, do, handler, run


class Inc(EffectBase):
    def __init__(self, x):
        super().__init__()
        self.x = x


@handler
def tail(effect: Inc, k):
    yield Transfer(k, effect.x + 1)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # doeff warns about a non-tail resume: that is the point

    @handler
    def nontail(effect: Inc, k):
        r = yield Resume(k, effect.x + 1)
        return r + 1


@do
def body(n):
    acc = 0
    for i in range(n, 0, -1):
        acc += yield Inc(i)
    return acc


h = nontail if sys.argv[2:] == ["nontail"] else tail
print(run(h(body(int(sys.argv[1])))))
