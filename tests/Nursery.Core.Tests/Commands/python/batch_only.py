"""A worker without the helper that offers batches and answers only batch lines: each batch as two runs, the
second with "ok" before "first" (members may come in any order)."""
import json
import os
import sys

out = os.fdopen(1, "w", buffering=1)
out.write('{"ready":true,"batch":true}\n')
for line in sys.stdin:
    request = json.loads(line)
    if "first" not in request:
        sys.stderr.write("batch_only.py was sent a line that is not a batch: " + line)
        os._exit(4)
    first, items = request["first"], request["items"]
    half = len(items) // 2
    if half:
        out.write(json.dumps({"first": first, "ok": [x * 2 for x in items[:half]]}) + "\n")
    out.write('{"ok": %s, "first": %d}\n' % (json.dumps([x * 2 for x in items[half:]]), first + half))
