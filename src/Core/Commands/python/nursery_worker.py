"""Turn a Python function into a Nursery persistent worker (stdlib only, Python 3.8+).

    # double.py
    import nursery_worker

    def double(x):
        return x * 2

    nursery_worker.serve(double)

and in .NET: scope.CommandStage(Command.Python<int, int>("double.py"), options).

The wire format (docs/commands.md): one JSON message a line on each side, UTF-8, newline-terminated.

    worker -> parent  {"ready": true, "batch": true}    once, after init() ran; "batch" offers the batch form
    parent -> worker  {"id": 7, "item": ...}            one item
    worker -> parent  {"id": 7, "ok": ...}              its result
    parent -> worker  {"first": 7, "items": [a, b, c]}  a batch: items 7, 8 and 9 (sent only to a worker that offered it)
    worker -> parent  {"first": 7, "ok": [a2, b2]}      results of consecutive items, from 7 on
    worker -> parent  {"id": 9, "error": {"type", "message", "traceback"}}   that item raised
    worker -> parent  {"heartbeat": true}               every heartbeat_seconds, from a thread

A batch is answered in order: runs of results, each run a line, and an error line for each item that raised (the
others of its batch succeed). A batch's results go out in one write once the batch is done (the parent sizes
batches to a few milliseconds of work); a reply line over 1 MiB is split into shorter runs.

print() is safe: the helper moves the real stdout to a private descriptor and points descriptor 1 (and
sys.stdout) at stderr, so nothing a handler or a C extension prints can corrupt the protocol. The
worker leaves at stdin EOF and when its parent process dies.
"""

import json
import os
import sys
import threading
import time
import traceback

__all__ = ["serve"]

# One encoder for every reply: json.dumps with separators builds a new encoder per call.
_encode = json.JSONEncoder(separators=(",", ":")).encode

# A reply line longer than this is split into runs of fewer results (the parent bounds a line's length).
_LONG_LINE = 1 << 20


def _error(exc):
    return {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}


def _error_line(item_id, exc):
    """The error reply for an item; call it in the except block, so the traceback is the exception's."""
    return (_encode({"id": item_id, "error": _error(exc)}) + "\n").encode("utf-8")


def _result_lines(first, results, out):
    """Appends to out the lines answering items first, first + 1, ... with results."""
    try:
        text = _encode(results)
    except Exception:  # noqa: BLE001 - a result JSON cannot hold fails its item only
        start = 0
        for index, result in enumerate(results):
            try:
                _encode(result)
            except Exception as exc:  # noqa: BLE001
                if index > start:
                    _result_lines(first + start, results[start:index], out)
                out.append(_error_line(first + index, exc))
                start = index + 1
        if start < len(results):
            _result_lines(first + start, results[start:], out)
        return
    if len(text) > _LONG_LINE and len(results) > 1:
        half = len(results) // 2
        _result_lines(first, results[:half], out)
        _result_lines(first + half, results[half:], out)
        return
    out.append(('{"first":%d,"ok":%s}\n' % (first, text)).encode("utf-8"))


def serve(handler, init=None, heartbeat_seconds=1.0, batch=True):
    """Answer requests with handler(item) until stdin ends; init() runs once before the first item.

    batch=False answers one item a line only (the parent then sends no batches).
    """
    protocol = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    lock = threading.Lock()
    parent = os.getppid()

    def send(data):
        view = memoryview(data)
        with lock:
            while view:
                view = view[os.write(protocol, view):]

    if init is not None:
        try:
            init()
        except BaseException as exc:  # noqa: BLE001 - every start failure must reach the parent
            send((_encode({"error": _error(exc)}) + "\n").encode("utf-8"))
            sys.stderr.flush()
            os._exit(2)
    send(b'{"ready":true,"batch":true}\n' if batch else b'{"ready":true}\n')

    def beat():
        while True:
            time.sleep(heartbeat_seconds)
            if os.getppid() != parent:
                os._exit(0)
            send(b'{"heartbeat":true}\n')

    threading.Thread(target=beat, name="nursery-heartbeat", daemon=True).start()

    def run_batch(first, items):
        out = []
        results = []
        append = results.append
        base = first  # the id of results[0]
        remaining = iter(items)
        while True:
            try:
                for item in remaining:
                    append(handler(item))
                break
            except Exception as exc:  # noqa: BLE001 - the body's exception is its item's failure
                failed = base + len(results)
                error = _error_line(failed, exc)
                if results:
                    _result_lines(base, results, out)
                out.append(error)
                base = failed + 1
                results = []
                append = results.append
        if results:
            _result_lines(base, results, out)
        send(b"".join(out))

    loads = json.loads
    for line in sys.stdin.buffer:
        request = loads(line)
        first = request.get("first")
        if first is not None:
            run_batch(first, request["items"])
            continue
        item_id = request["id"]
        try:
            data = (_encode({"id": item_id, "ok": handler(request["item"])}) + "\n").encode("utf-8")
        except Exception as exc:  # noqa: BLE001 - the body's exception is the item's failure
            data = _error_line(item_id, exc)
        send(data)
    sys.stderr.flush()
    os._exit(0)
