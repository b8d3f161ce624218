# kont difftest: the runtime of kont programs translated to Python (kont's
# Python API, SPEC.md section 14). Values: unit None, bool, int (checked i64),
# str, lists KList, functions KFn, cells Cell, errors KErr (a kont.KontError),
# effects one Eff subclass per label with the payload in `v`.
import sys
import kont
from kont import (EffectBase, KontError, K, NewCont, Pass, Program, Resume, ResumeThrow,
                  Transfer, TransferThrow, WithHandler, WithIntercept, WithObserve)
# The standard prelude's API (SPEC.md section 14.8).
from kont import (scheduled, Spawn, Wait, Gather, Race, Cancel, YieldTask, CreatePromise,
                  CompletePromise, FailPromise, CreateSemaphore, AcquireSemaphore,
                  ReleaseSemaphore, Delay, DelayFail, Now, Handle)

_MIN, _MAX = -(1 << 63), (1 << 63) - 1
# A continuation's canonical id, whether it is live, a continuation node's k
# (another engine's `kont` module, the doeff engine's, supplies its own).
_k_id = getattr(kont, "k_id", lambda k: k.id)
_k_live = getattr(kont, "k_live", lambda k: k.live)
_node_k = getattr(kont, "node_k", lambda node: node.k)
_node_value = getattr(kont, "node_value", lambda node: node.value)
# What a kont `catch` catches: kont's errors (the doeff engine adds doeff's UnhandledEffect).
Caught = getattr(kont, "CAUGHT", KontError)


class _State:
    def __init__(self):
        self.output, self.marks, self.cells, self.run, self.ended, self.foreign = [], [], 0, 0, False, ()
        self.earlier_ks = ()  # the continuations of the earlier run that `foreign` holds
        self.tail_calls = 0
        self.consumed = []


ST = _State()


def _quote(s):
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == '\\':
            out.append('\\\\')
        elif c == '\n':
            out.append('\\n')
        elif c == '\t':
            out.append('\\t')
        elif c == '\r':
            out.append('\\r')
        elif ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0:
            out.append('\\u{%x}' % ord(c))
        else:
            out.append(c)
    out.append('"')
    return ''.join(out)


def show(v):
    """kont's observable form of a value (SPEC.md section 3.2)."""
    t = type(v)
    if v is None:
        return "unit"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is str:
        return _quote(v)
    if t is KList or t is list:  # a list: the translation's, or a kont list the VM gave Python
        return "(list" + "".join(" " + show(x) for x in v) + ")"
    if t is KFn:
        return "#fn" if v.name is None else "#fn:" + v.name
    if t is K:
        i = _k_id(v)
        if i is None:
            return "#k"
        # An earlier run's continuation reaches this run only as `prev` (SPEC.md 3.2).
        return ("#earlier-k%d" if any(v == f for f in ST.earlier_ks) else "#k%d") % i
    if t is Cell:
        return ("#cell%d" if v.run == ST.run else "#earlier-cell%d") % v.n
    if isinstance(v, Caught):
        return "(error %s %s)" % (_quote(v.tag), show(v.payload))
    if isinstance(v, Eff):
        return "(effect %s %s)" % (type(v).__name__, show(v.v))
    if t is Handle:  # the kont list (list "task" n), as the prelude makes it
        return "(list %s %d)" % (_quote(v.kind), v.id)
    if isinstance(v, BaseException):
        return "(error %s %s)" % (_quote(type(v).__qualname__), _quote(str(v)))
    shown = getattr(v, "kont_shown", None)  # a value another engine knows only as text
    if type(shown) is str:
        return shown
    return "#<%r>" % (v,)


class KList(tuple):
    """A kont list (immutable)."""
    __kont_type__ = "list"  # its kont type, for the VM's messages (SPEC.md §14.5)
    __slots__ = ()

    def __repr__(self):
        return show(self)


class KFn:
    """A kont function: a generator function and its arity."""
    __kont_type__ = "fn"  # its kont type, for the VM's messages (SPEC.md §14.5)
    __slots__ = ("gen", "arity", "name")

    def __init__(self, gen, arity, name=None):
        self.gen, self.arity, self.name = gen, arity, name

    def __call__(self, *args):  # as an interceptor, observer or new-cont body
        if len(args) != self.arity:
            raise KErr("arity", "function takes %d argument(s), got %d" % (self.arity, len(args)))
        return trampoline(self, args)

    def __repr__(self):
        return show(self)


class Cell:
    __kont_type__ = "cell"  # its kont type, for the VM's messages (SPEC.md §14.5)
    __slots__ = ("n", "run", "value")

    def __init__(self, value):
        ST.cells += 1
        self.n, self.run, self.value = ST.cells, ST.run, value

    def __repr__(self):
        return show(self)


class KErr(KontError):
    """A kont error value (error tag payload)."""

    def __repr__(self):
        return show(self)


class Eff(EffectBase):
    def __init__(self, v):
        self.v = v

    def __repr__(self):
        return show(self)


class _Never(Eff):
    """Admits no effect: the filter of a handler that takes none."""


def kerr(e):
    """A caught kont error as a KErr (the VM's own KontErrors included)."""
    return e if type(e) is KErr else KErr(e.tag, e.payload)


def type_name(v):
    t = type(v)
    if v is None:
        return "unit"
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is str:
        return "str"
    if t is KList or t is Handle:
        return "list"
    if t is KFn:
        return "fn"
    if t is K:
        return "cont"
    if t is Cell:
        return "cell"
    if isinstance(v, Caught):
        return "error"
    if isinstance(v, EffectBase):
        return "effect"
    return "host"


def _bad(op, i, want, v):
    raise KErr("type-error", "%s: argument %d must be %s, got %s" % (op, i, want, type_name(v)))


def _int(op, i, v):
    if type(v) is not int:
        _bad(op, i, "int", v)
    return v


def _chk(op, a, b, r):
    if r < _MIN or r > _MAX:
        raise KErr("overflow", "(%s %d %d)" % (op, a, b))
    return r


def p_add(a, b):
    return _chk("+", a, b, _int("+", 1, a) + _int("+", 2, b))


def p_sub(a, b):
    return _chk("-", a, b, _int("-", 1, a) - _int("-", 2, b))


def p_mul(a, b):
    return _chk("*", a, b, _int("*", 1, a) * _int("*", 2, b))


def _divmod(op, a, b):
    _int(op, 1, a)
    _int(op, 2, b)
    if b == 0:
        raise KErr("division-by-zero", "(%s %d 0)" % (op, a))
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    return q, a - b * q


def p_div(a, b):
    q, _ = _divmod("/", a, b)
    return _chk("/", a, b, q)


def p_mod(a, b):
    return _divmod("mod", a, b)[1]


class _FnCompare(Exception):
    pass


def _eq(a, b):
    if type(a) is Handle:
        a = KList((a.kind, a.id))
    if type(b) is Handle:
        b = KList((b.kind, b.id))
    ta, tb = type_name(a), type_name(b)
    if ta == "fn" or tb == "fn":
        raise _FnCompare()
    if ta != tb:
        return False
    if ta == "list":
        if len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if not _eq(x, y):
                return False
        return True
    if ta == "cont":
        # kont's K compares its id and its run (SPEC.md §3.3: an earlier
        # run's continuation is not this run's with the same id).
        return a is b or (_k_id(a) is not None and a == b)
    if ta == "cell":
        return a.n == b.n
    if ta == "error":
        return a.tag == b.tag and _eq(a.payload, b.payload)
    if ta == "effect":
        return type(a).__name__ == type(b).__name__ and _eq(a.v, b.v)
    if ta == "host":
        return repr(a) == repr(b)
    return a == b


def p_eq(a, b, op="="):
    try:
        return _eq(a, b)
    except _FnCompare:
        raise KErr("type-error", "%s: functions cannot be compared" % op) from None


def p_ne(a, b):
    return not p_eq(a, b, "!=")


def _cmp(op, a, b):
    if type(a) is int:
        if type(b) is not int:
            _bad(op, 2, "int", b)
    elif type(a) is str:
        if type(b) is not str:
            _bad(op, 2, "str", b)
    else:
        _bad(op, 1, "int or str", a)
    return (a > b) - (a < b)


def p_lt(a, b):
    return _cmp("<", a, b) < 0


def p_le(a, b):
    return _cmp("<=", a, b) <= 0


def p_gt(a, b):
    return _cmp(">", a, b) > 0


def p_ge(a, b):
    return _cmp(">=", a, b) >= 0


def _bool(op, i, v):
    if type(v) is not bool:
        _bad(op, i, "bool", v)
    return v


def p_not(a):
    return not _bool("not", 1, a)


def p_and(a, b):
    x, y = _bool("and", 1, a), _bool("and", 2, b)
    return x and y


def p_or(a, b):
    x, y = _bool("or", 1, a), _bool("or", 2, b)
    return x or y


def _str(op, i, v):
    if type(v) is not str:
        _bad(op, i, "str", v)
    return v


def p_concat(a, b):
    return _str("concat", 1, a) + _str("concat", 2, b)


def p_strlen(a):
    return len(_str("strlen", 1, a))


def p_show(a):
    return a if type(a) is str else show(a)


def p_list(*xs):
    return KList(xs)


def _list(op, i, v):
    if type(v) is not KList:
        _bad(op, i, "list", v)
    return v


def p_cons(a, b):
    return KList((a,) + tuple(_list("cons", 2, b)))


def p_head(a):
    if not _list("head", 1, a):
        raise KErr("index", "head: empty list")
    return a[0]


def p_tail(a):
    if not _list("tail", 1, a):
        raise KErr("index", "tail: empty list")
    return KList(a[1:])


def p_is_empty(a):
    return len(_list("empty?", 1, a)) == 0


def p_len(a):
    if type(a) is KList or type(a) is str:
        return len(a)
    _bad("len", 1, "list or str", a)


def p_nth(a, i):
    _list("nth", 1, a)
    _int("nth", 2, i)
    if 0 <= i < len(a):
        return a[i]
    raise KErr("index", "nth: index %d out of range for length %d" % (i, len(a)))


def p_set_nth(a, i, v):
    _list("set-nth", 1, a)
    _int("set-nth", 2, i)
    if 0 <= i < len(a):
        return KList(a[:i] + (v,) + a[i + 1:])
    raise KErr("index", "set-nth: index %d out of range for length %d" % (i, len(a)))


def p_slice(a, i, j):
    _list("slice", 1, a)
    _int("slice", 2, i)
    _int("slice", 3, j)
    if 0 <= i <= j <= len(a):
        return KList(a[i:j])
    raise KErr("index", "slice: bounds %d..%d out of range for length %d" % (i, j, len(a)))


def p_append(a, b):
    return KList(tuple(_list("append", 1, a)) + tuple(_list("append", 2, b)))


def p_new_cell(v):
    return Cell(v)


def _cell(op, c):
    if type(c) is not Cell:
        _bad(op, 1, "cell", c)
    if c.run != ST.run:
        raise KErr("stale", c)
    return c


def p_get(c):
    return _cell("get", c).value


def p_set(c, v):
    _cell("set", c).value = v


def p_error(tag, payload):
    return KErr(_str("error", 1, tag), payload)


def p_error_tag(e):
    if not isinstance(e, Caught):
        _bad("error-tag", 1, "error", e)
    return e.tag


def p_error_payload(e):
    if not isinstance(e, Caught):
        _bad("error-payload", 1, "error", e)
    return e.payload


def p_effect_label(e):
    if not isinstance(e, Eff):
        _bad("effect-label", 1, "effect", e)
    return type(e).__name__


def p_effect_payload(e):
    if not isinstance(e, Eff):
        _bad("effect-payload", 1, "effect", e)
    return e.v


def p_type_of(v):
    return type_name(v)


def p_arity(f):
    if type(f) is not KFn:
        _bad("arity", 1, "fn", f)
    return f.arity


def p_is_live(k):
    if type(k) is not K:
        raise KErr("not-a-continuation", k)
    if ST.consumed and _consumed(k):
        return False
    # K cannot tell "used" from "of another run": the values the worker
    # carried over from an earlier run are the foreign ones (K-Stale).
    if any(k is f for f in ST.foreign):
        raise KErr("stale", k)
    return _k_live(k)


def truth(c):
    """`if`'s condition (E-If-Type)."""
    if c is True or c is False:
        return c
    raise KErr("type-error", "if: expected bool, got %s" % type_name(c))


def kraise(e):
    """`raise` (X-Raise, X-NotError)."""
    if not isinstance(e, Caught):
        raise KErr("type-error", "raise: expected an error value, got %s" % type_name(e))
    raise e


def emit(v):
    if not ST.ended:
        ST.output.append(show(v))


def mark(tag, v):
    if not ST.ended:
        ST.marks.append("mark %s %s" % (tag, show(v)))


def _callee(f, args):
    if type(f) is not KFn:
        raise KErr("not-a-function", f)
    if len(args) != f.arity:
        raise KErr("arity", "function takes %d argument(s), got %d" % (f.arity, len(args)))
    return f


def call(f, *args):
    """E-Call: the program of calling kont function `f` (E-Call-NotFn, E-Call-Arity)."""
    return Program(trampoline, (_callee(f, args), args))


class TailCall:
    """A call in tail position, returned to the trampoline: constant space."""
    __slots__ = ("f", "args")

    def __init__(self, f, args):
        self.f, self.args = f, args


def tail_call(f, *args):
    return TailCall(_callee(f, args), args)


def trampoline(f, args):
    """Run kont function `f`; its tail calls run here, one after the other."""
    while True:
        r = yield from f.gen(*args)
        if type(r) is not TailCall:
            return r
        f, args = r.f, r.args
        ST.tail_calls += 1
        if ST.tail_calls > 20_000_000:  # a bound the reference's fuel would have stopped long before
            raise RuntimeError("the run made more than 20,000,000 tail calls")


def perform_value(e):
    """`(perform e)`: e must be an effect (D-NotEffect)."""
    if not isinstance(e, Eff):
        raise KErr("type-error", "perform: expected an effect, got %s" % type_name(e))
    return e


def icall(f):
    """An interceptor or observer function: calling a non-function fails at the install."""
    if type(f) is KFn:
        return f

    def not_a_function(e):
        raise KErr("not-a-function", f)
    return not_a_function


def cont_fn(f):
    """new-cont's function: one parameter (E-Call-NotFn, E-Call-Arity)."""
    if type(f) is not KFn:
        raise KErr("not-a-function", f)
    if f.arity != 1:
        raise KErr("arity", "function takes %d argument(s), got 1" % f.arity)
    return f


def new_cont(f, *k):
    """`(new-cont f)`, `(new-cont f k)`: f is checked first, then the VM checks k."""
    f = cont_fn(f)
    if not k:
        return NewCont(f)
    chk(k[0])
    if k[0] is None:  # NewCont takes None as "no envelope"
        raise KErr("not-a-continuation", None)
    return NewCont(f, envelope=k[0])


def _task_body(f):
    return (yield call(f, None))


def task(f):
    """A task's program: kont function `f` called with unit (its errors fail the task)."""
    return Program(_task_body, (f,))


def arg(v):
    """A prelude call's argument: a kont list is passed as a Python list (a kont list for the prelude)."""
    if type(v) is KList:
        return [arg(x) for x in v]
    return v


def api(v):
    """A prelude call's answer as a kont value: a list (gather's) is a KList."""
    if type(v) is list or type(v) is tuple:
        return KList(api(x) for x in v)
    return v


# ---- the prelude's cache (std.kont's `with-cache`), clause for clause ----

class CacheGet(Eff):
    pass


class CachePut(Eff):
    pass


class CacheExists(Eff):
    pass


class CacheDelete(Eff):
    pass


def _data(v):
    """The prelude's `data?`: no function anywhere in it."""
    t = type_name(v)
    if t == "fn":
        return False
    if t == "list":
        return all(_data(x) for x in v)
    if t == "error":
        return _data(v.payload)
    if t == "effect":
        return _data(v.v)
    return True


def _cache_find(entries, key):
    for e in entries:
        if p_eq(e[0], key):
            return KList((True, e[1]))
    return KList((False,))


def _refuse(k, tag, x):
    return Transfer(k, KList((False, KErr(tag, x))))


def with_cache(f):
    """`(with-cache f)`: a handler named "cache" around `(f unit)`; its store is a cell."""
    store = p_new_cell(KList(()))

    def cache(eff: CacheGet | CachePut | CacheExists | CacheDelete, k):
        t = type(eff)
        if t is CachePut:
            kv = eff.v
            if not (type_name(kv) == "list" and len(kv) == 2 and _data(kv[0])):
                return (yield _refuse(k, "bad-payload", kv))
            entries = KList(e for e in p_get(store) if not p_eq(e[0], kv[0]))
            p_set(store, KList(tuple(entries) + (kv,)))
            return (yield Transfer(k, KList((True, None))))
        key = eff.v
        if not _data(key):
            return (yield _refuse(k, "bad-key", key))
        if t is CacheGet:
            found = _cache_find(p_get(store), key)
            if found[0]:
                return (yield Transfer(k, KList((True, found[1]))))
            return (yield _refuse(k, "cache-miss", key))
        if t is CacheExists:
            return (yield Transfer(k, KList((True, _cache_find(p_get(store), key)[0]))))
        p_set(store, KList(e for e in p_get(store) if not p_eq(e[0], key)))
        return (yield Transfer(k, KList((True, None))))

    cache.__qualname__ = "cache"
    return WithHandler(cache, task(f))


# ---- the prelude's standalone virtual-time await (std.kont's `run-await`) ----

AwaitEff = type("Await", (Eff,), {})
NowEff = type("Now", (Eff,), {})


def _int_between(x, lo, hi):
    return type(x) is int and lo <= x <= hi


def _outcome(o):
    if not (type_name(o) == "list" and len(o) == 2 and type(o[0]) is bool):
        return False
    return o[0] or type_name(o[1]) == "error"


def run_await(f):
    """`(run-await f)`: a handler named "await" (a clock cell) around `(f unit)`."""
    clock = p_new_cell(0)

    def await_(eff: AwaitEff | NowEff, k):
        if type(eff) is NowEff:
            return (yield Transfer(k, KList((True, p_get(clock)))))
        op = eff.v
        valid = type_name(op) == "list" and len(op) == 3 and _int_between(op[0], 0, 10**12) and _outcome(KList(op[1:]))
        if not valid:
            return (yield _refuse(k, "bad-payload", op))
        if not op[0] <= 4000000000000000000 - p_get(clock):
            return (yield _refuse(k, "clock-overflow", op))
        p_set(clock, p_get(clock) + op[0])
        return (yield Transfer(k, KList(op[1:])))

    await_.__qualname__ = "await"
    return WithHandler(await_, task(f))


def unwrap(a):
    """The prelude's `unwrap`: an answer (list true v) is v; (list false e) raises e."""
    return p_nth(a, 1) if truth(p_head(a)) else kraise(p_nth(a, 1))


class Escape(Exception):
    """A transfer or pass on its way out of the function, through `finally`s
    that may perform (a generator cannot yield while being closed)."""


def _consumed(k):
    return type(k) is K and any(k == c for c in ST.consumed)


def chk(k):
    """A continuation about to be used: one a deferred escape took is used (K-OneShot)."""
    if ST.consumed and _consumed(k):
        raise KErr("one-shot", k)
    return k


def c_resume(k, v):
    return Resume(chk(k), v)


def c_transfer(k, v):
    return Transfer(chk(k), v)


def c_resume_throw(k, v):
    return ResumeThrow(chk(k), v)


def c_transfer_throw(k, v):
    return TransferThrow(chk(k), v)


def c_pass(e, k):
    return Pass(e, chk(k))


def escape(node, form):
    """The checks of a transfer or pass (K-NotCont, K-Stale, K-OneShot,
    X-NotError, D-NotEffect) at its site; `k` is consumed from here on; the
    function's `except Escape` yields `node` after the cleanups ran."""
    k = _node_k(node)
    if type(k) is not K:
        raise KErr("not-a-continuation", k)
    if any(k is f for f in ST.foreign):
        raise KErr("stale", k)
    if not _k_live(k) or _consumed(k):
        raise KErr("one-shot", k)
    if form == "pass":
        if not isinstance(node.effect, EffectBase):
            raise KErr("type-error", "pass: expected an effect, got %s" % type_name(node.effect))
    elif form != "transfer" and not isinstance(_node_value(node), Caught):
        raise KErr("type-error", "%s: expected an error value, got %s" % (form, type_name(_node_value(node))))
    ST.consumed.append(k)
    return node


def _top(main):
    try:
        return (yield Program(main, ()))
    finally:
        ST.ended = True  # what the run closes after its end (SPEC.md 14.4) is not the program's


def _ks_in(v):
    """The continuations in `v` and the lists inside it (iteratively: a list may nest deep)."""
    todo, ks = [v], []
    while todo:
        x = todo.pop()
        if type(x) is K:
            ks.append(x)
        elif isinstance(x, (tuple, list)):
            todo.extend(x)
    return ks


def run_main(main, fuel=10_000_000, depth=None, foreign=()):
    """Run `main` (a generator function); the outcome, output, marks, events."""
    ST.output, ST.marks, ST.cells, ST.ended, ST.foreign, ST.tail_calls = [], [], 0, False, foreign, 0
    ST.earlier_ks = tuple(_ks_in(foreign))
    ST.consumed = []
    ST.run += 1
    rep = kont.run_report(Program(_top, (main,)), fuel=fuel, depth=depth, trace=True)
    if rep.error is None:
        outcome, shown = "value", show(rep.value)
    elif isinstance(rep.error, kont.ExhaustedError):
        outcome, shown = "exhausted", rep.error.resource
    else:
        outcome, shown = "error", show(rep.error)
    return {"outcome": outcome, "value": shown, "output": ST.output, "marks": ST.marks,
            "events": list(rep.events), "steps": rep.steps}, rep.value
