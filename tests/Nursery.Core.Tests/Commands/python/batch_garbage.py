"""A worker without the helper that offers batches and answers a batch with a malformed reply."""
import json
import os
import sys

out = os.fdopen(1, "w", buffering=1)
out.write('{"ready":true,"batch":true}\n')
for line in sys.stdin:
    out.write('{"first":%d,"ok":"not a list"}\n' % json.loads(line)["first"])
