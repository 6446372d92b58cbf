"""A test worker that answers each item with its traceparent, as the helper gives it ("" when none)."""
import nursery_worker


def handle(item):
    return nursery_worker.traceparent() or ""


nursery_worker.serve(handle)
