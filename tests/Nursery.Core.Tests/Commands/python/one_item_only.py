"""A worker without the helper that speaks only the one-item form: its ready line offers no batches."""
import json
import os
import sys

out = os.fdopen(1, "w", buffering=1)
out.write('{"ready":true}\n')
for line in sys.stdin:
    request = json.loads(line)
    if "id" not in request:
        sys.stderr.write("one_item_only.py was sent a line that is not a one-item request: " + line)
        os._exit(3)
    out.write(json.dumps({"id": request["id"], "ok": request["item"] * 2}) + "\n")
