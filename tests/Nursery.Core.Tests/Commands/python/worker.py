"""A test worker built on nursery_worker: its behaviour is chosen by the item."""
import os
import sys
import time

import nursery_worker


def handle(item):
    if item == -1:
        raise ValueError("negative items are invalid")
    if item == -2:
        os._exit(5)
    if item == -3:
        time.sleep(3600)
    if item == -4:
        hog = b"x" * (1024 << 20)
        return len(hog)
    if item == -8:
        time.sleep(4)
        return 8
    if item == -6:
        print(f"busy {os.getpid()}", file=sys.stderr, flush=True)
        time.sleep(30)
    print(f"print() goes to stderr, not the protocol: {item}")
    return item * 2


nursery_worker.serve(handle)
