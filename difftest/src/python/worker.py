# The worker loop: one JSON request per line on stdin, one JSON answer per line.
# Request {"code": ..., "before": code or null, "fuel": n}; each code defines `main`.
import json as _json
import traceback as _tb

sys.unraisablehook = lambda u: None  # closes after a run's end report nothing we compare
sys.setrecursionlimit(10000)
_BASE = dict(globals())


def _load(code, prev=None):
    ns = dict(_BASE)
    ns["prev"] = prev
    exec(compile(code, "program.py", "exec"), ns)
    return ns["main"]


def _serve():
    for line in sys.stdin:
        req = _json.loads(line)
        try:
            prev, foreign = None, ()
            if req.get("before") is not None:
                first, value = run_main(_load(req["before"]), fuel=req["fuel"])
                if first["outcome"] != "value":
                    print(_json.dumps({"no_previous": True}), flush=True)
                    continue
                prev, foreign = value, (value,)
            ans, _ = run_main(_load(req["code"], prev), fuel=req["fuel"], foreign=foreign)
        except BaseException:
            ans = {"crash": _tb.format_exc()}
        print(_json.dumps(ans), flush=True)


_serve()
