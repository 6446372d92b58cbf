"""Turn a Python function into a Nursery persistent worker (stdlib only, Python 3.8+).

    # double.py
    import nursery_worker

    def double(x):
        return x * 2

    nursery_worker.serve(double)

and in .NET: scope.CommandStage(Command.Python<int, int>("double.py"), options).

The wire format (docs/protocol.md): one JSON request a line on stdin, {"id": 1, "item": ...}; one JSON
reply a line on stdout, {"id": 1, "ok": ...} or {"id": 1, "error": {"type", "message", "traceback"}};
a {"ready": true} line once the initializer has run, and {"heartbeat": true} lines every second.

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


def _error(exc):
    return {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}


def serve(handler, init=None, heartbeat_seconds=1.0):
    """Answer requests with handler(item) until stdin ends; init() runs once before the first item."""
    protocol = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    lock = threading.Lock()
    parent = os.getppid()

    def send(message):
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")
        with lock:
            protocol.write(data)

    if init is not None:
        try:
            init()
        except BaseException as exc:  # noqa: BLE001 - every start failure must reach the parent
            send({"error": _error(exc)})
            sys.stderr.flush()
            os._exit(2)
    send({"ready": True})

    def beat():
        while True:
            time.sleep(heartbeat_seconds)
            if os.getppid() != parent:
                os._exit(0)
            send({"heartbeat": True})

    threading.Thread(target=beat, name="nursery-heartbeat", daemon=True).start()

    for line in sys.stdin.buffer:
        request = json.loads(line)
        try:
            reply = {"id": request["id"], "ok": handler(request["item"])}
            send(reply)
        except Exception as exc:  # noqa: BLE001 - the body's exception is the item's failure
            send({"id": request["id"], "error": _error(exc)})
    sys.stderr.flush()
    os._exit(0)
