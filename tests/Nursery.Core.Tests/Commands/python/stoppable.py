"""A test worker whose handler takes the stop event; it appends "start N" to the file named by its argument."""
import sys
import time

import nursery_worker

LOG = sys.argv[1]


def handle(item, stop):
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(f"start {item}\n")
    if item == -3:
        if stop.wait(600):
            raise RuntimeError("stopped as asked")
        return -3
    if item == -7:
        time.sleep(600)
    return item * 2


nursery_worker.serve(handle)
