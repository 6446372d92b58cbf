"""Turn a Python function into a Nursery persistent worker (stdlib only, Python 3.8+).

    # double.py
    import nursery_worker

    def double(x):
        return x * 2

    nursery_worker.serve(double)

A handler with a second (required) parameter is given a threading.Event, set when the parent asks for the item
to stop (the run was cancelled, the item passed its deadline, the worker is being disposed): check stop.is_set()
or wait on it, then return or raise; the worker lives on. The parent kills a worker that has not answered within
its kill grace.

    def crunch(path, stop):
        total = 0
        for line in open(path):
            if stop.is_set():
                raise RuntimeError("stopped")
            total += len(line)
        return total

nursery_worker.traceparent() is the running item's W3C traceparent when the parent records its span (an
OpenTelemetry listener there), to start the handler's own spans under it.

and in .NET: scope.CommandStage(Command.Python<int, int>("double.py"), options).

The wire format (docs/commands.md): one JSON message a line on each side, UTF-8, newline-terminated.

    worker -> parent  {"ready": true, "batch": true, "trace": true}   once, after init() ran; "batch" offers the
                                                        batch form, "trace" takes trace lines; "stop": true is added
                                                        for a handler that takes a stop event
    parent -> worker  {"id": 7, "item": ...}            one item
    worker -> parent  {"id": 7, "ok": ...}              its result
    parent -> worker  {"first": 7, "items": [a, b, c]}  a batch: items 7, 8 and 9 (sent only to a worker that offered it)
    worker -> parent  {"first": 7, "ok": [a2, b2]}      results of consecutive items, from 7 on
    worker -> parent  {"id": 9, "error": {"type", "message", "traceback"}}   that item raised
    worker -> parent  {"heartbeat": true}               every heartbeat_seconds, from a thread
    parent -> worker  {"trace": {"7": "00-…-…-01"}}     the traceparents of items written next (only when recorded)
    parent -> worker  {"stop": [7, 9]}                  stop items 7 and 9 (sent only to a worker that offered it):
                                                        the running one's event is set, a waiting one is answered
                                                        with a Stopped error without being run

A batch is answered in order: runs of results, each run a line, and an error line for each item that raised (the
others of its batch succeed). A batch's results go out in one write once the batch is done (the parent sizes
batches to a few milliseconds of work); a reply line over 1 MiB is split into shorter runs.

print() is safe: the helper moves the real stdout to a private descriptor and points descriptor 1 (and
sys.stdout) at stderr, so nothing a handler or a C extension prints can corrupt the protocol. The
worker leaves at stdin EOF and when its parent process dies.
"""

import inspect
import json
import os
import queue
import sys
import threading
import time
import traceback

__all__ = ["serve", "traceparent", "Stopped"]

# The W3C traceparent of the item being handled, when the parent records its span.
_traceparent = None


def traceparent():
    """The item's W3C traceparent ("00-<trace id>-<span id>-<flags>"): its span in the parent, to start spans under
    with OpenTelemetry's propagator. None when the parent records no trace (nobody listens there)."""
    return _traceparent


class Stopped(Exception):
    """The answer to an item the parent asked to stop before the worker started it."""

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


def _takes_stop(handler):
    """Whether handler requires a second positional argument (the stop event); one with a default is left alone."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature takes what it takes: one item
        return False
    required = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    return len(required) >= 2


class _Stops:
    """The stop requests of a worker whose handler takes a stop event, read by a thread while the handler runs.

    Items run in id order, so the handler's calls are numbered from a request's first id. Under one lock an item is
    checked against the requests and marked running, and a request sets the event of the item marked running, so a
    stop that races an item's start or end reaches that item and no other.
    """

    def __init__(self, handler):
        self._handler = handler
        self._lock = threading.Lock()
        self._requested = set()
        self._running = None
        self._event = threading.Event()
        self.next_id = 0

    def __call__(self, item):
        item_id = self.next_id
        self.next_id = item_id + 1
        with self._lock:
            if item_id in self._requested:
                self._requested.discard(item_id)
                raise Stopped(f"the parent asked to stop item {item_id} before it started")
            if self._event.is_set():
                self._event = threading.Event()
            event = self._event
            self._running = item_id
        try:
            return self._handler(item, event)
        finally:
            with self._lock:
                self._running = None
                if self._requested:
                    # A request for an item already answered is dropped: ids only grow.
                    self._requested = {i for i in self._requested if i > item_id}

    def request(self, ids):
        with self._lock:
            self._requested.update(ids)
            if self._running in self._requested:
                self._event.set()


class _Traced:
    """Numbers a request's handler calls from its first id and makes each traced item's traceparent current."""

    def __init__(self, handler, traces, first):
        self._handler = handler
        self._traces = traces
        self._next = first

    def __call__(self, item):
        global _traceparent
        item_id = self._next
        self._next = item_id + 1
        _traceparent = self._traces.pop(str(item_id), None)
        try:
            return self._handler(item)
        finally:
            _traceparent = None


def serve(handler, init=None, heartbeat_seconds=1.0, batch=True):
    """Answer requests with handler(item) until stdin ends; init() runs once before the first item.

    A handler(item, stop) is given a threading.Event set when the parent asks for the item to stop. batch=False
    answers one item a line only (the parent then sends no batches).
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
    stops = _Stops(handler) if _takes_stop(handler) else None
    if stops is not None:
        handler = stops
    send(('{"ready":true%s%s,"trace":true}\n' % (',"batch":true' if batch else "", ',"stop":true' if stops else "")).encode("ascii"))

    def beat():
        while True:
            time.sleep(heartbeat_seconds)
            if os.getppid() != parent:
                os._exit(0)
            send(b'{"heartbeat":true}\n')

    threading.Thread(target=beat, name="nursery-heartbeat", daemon=True).start()

    def run_batch(first, items, call):
        out = []
        results = []
        append = results.append
        base = first  # the id of results[0]
        remaining = iter(items)
        while True:
            try:
                for item in remaining:
                    append(call(item))
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
    requests = sys.stdin.buffer if stops is None else _read_with_stops(stops)
    traces = {}
    for line in requests:
        request = loads(line) if stops is None else line
        trace = request.get("trace")
        if trace is not None:
            traces.update(trace)
            continue
        first = request.get("first")
        item_id = request["id"] if first is None else first
        if stops is not None:
            stops.next_id = item_id
        call = handler
        if traces:
            # An entry before this request's ids is of an item never written (the parent could not encode it).
            for stale in [key for key in traces if int(key) < item_id]:
                del traces[stale]
            call = _Traced(handler, traces, item_id)
        if first is not None:
            run_batch(first, request["items"], call)
            continue
        try:
            data = (_encode({"id": item_id, "ok": call(request["item"])}) + "\n").encode("utf-8")
        except Exception as exc:  # noqa: BLE001 - the body's exception is the item's failure
            data = _error_line(item_id, exc)
        send(data)
    sys.stderr.flush()
    os._exit(0)


def _read_with_stops(stops):
    """The requests, read by a thread so that a stop request reaches a handler still running; leaves at stdin EOF."""
    waiting = queue.SimpleQueue()

    def read():
        loads = json.loads
        try:
            for line in sys.stdin.buffer:
                request = loads(line)
                stop = request.get("stop")
                if stop is not None:
                    stops.request(stop)
                else:
                    waiting.put(request)
        except BaseException:  # noqa: BLE001 - a reader that died would leave the main thread waiting for ever
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(3)
        # As the .NET host does: stdin's end is the parent's word to leave, even in the middle of an item.
        sys.stderr.flush()
        os._exit(0)

    threading.Thread(target=read, name="nursery-stdin", daemon=True).start()
    while True:
        yield waiting.get()
