"""W1b: the clause adds 1 after resume returns, so every activation stays live
until the loop ends. CPython cannot nest 1,000,000 handler frames (recursion
limit), so each activation's rest ("add 1") is a closure kept on an explicit
stack and run, innermost first, when the body returns. Checksum W1 + N."""
import sys


def body(n):
    acc = 0
    for i in range(n, 0, -1):
        acc += yield ("Inc", i)
    return acc


def with_inc(gen):
    send = gen.send
    rests = []
    try:
        eff = send(None)
        while True:
            rests.append(lambda r: r + 1)
            eff = send(eff[1] + 1)
    except StopIteration as done:
        r = done.value
    while rests:
        r = rests.pop()(r)
    return r


print(with_inc(body(int(sys.argv[1]))))
