"""W1: N performs of Inc i (i = N..1) as generator yields; the handler is the
send loop, answering i+1 (tail-resumptive). Checksum N(N+1)/2 + N."""
import sys


def body(n):
    acc = 0
    for i in range(n, 0, -1):
        acc += yield ("Inc", i)
    return acc


def with_inc(gen):
    send = gen.send
    try:
        eff = send(None)
        while True:
            eff = send(eff[1] + 1)
    except StopIteration as done:
        return done.value


print(with_inc(body(int(sys.argv[1]))))
