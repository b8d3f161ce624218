"""README's example: a state handler, and a computation parked by one
handler and resumed later under another, which keeps its own interceptor."""

from kont import EffectBase, Resume, WithIntercept, do, handler, run


class Get(EffectBase):
    pass


class Put(EffectBase):
    def __init__(self, value):
        self.value = value


class Ask(EffectBase):
    def __init__(self, question):
        self.question = question


class Tell(EffectBase):
    def __init__(self, text):
        self.text = text


def state(initial):
    """A state handler: the state lives outside the continuations."""
    cell = {"value": initial}

    @handler
    def handle(effect: Get | Put, k):
        if isinstance(effect, Put):
            cell["value"] = effect.value
            return (yield Resume(k, None))
        return (yield Resume(k, cell["value"]))

    return handle


parked = []
seen = []
told = []


@handler
def park(effect: Ask, k):
    parked.append(k)  # the whole suspended computation, its interceptor included
    return "parked"


@handler
def listen(effect: Tell, k):
    told.append(effect.text)
    return (yield Resume(k, None))


def log(effect):
    seen.append(type(effect).__name__)
    return effect


@do
def worker():
    n = yield Get()
    yield Put(n + 1)
    reply = yield Ask("go on?")  # parked here by `park`
    yield Tell(f"resumed with {reply!r}")  # reaches the resumer's `listen`
    return reply, (yield Get())


@do
def resume_parked():
    # Plain code, later, resumes the parked computation under another handler.
    return (yield Resume(parked.pop(), "yes"))


@do
def program():
    first = yield park(WithIntercept(log, worker()))
    later = yield listen(resume_parked())
    return first, later


if __name__ == "__main__":
    result = run(state(41)(program()))
    print(result)  # ('parked', ('yes', 42))
    print(seen)  # ['Get', 'Put', 'Ask', 'Tell', 'Get']: the interceptor travelled with it
    print(told)  # ["resumed with 'yes'"]
