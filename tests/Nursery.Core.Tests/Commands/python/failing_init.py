"""A worker whose initializer cannot connect."""
import nursery_worker


def connect():
    raise ConnectionError("cannot reach the reference database")


nursery_worker.serve(lambda item: item, init=connect)
