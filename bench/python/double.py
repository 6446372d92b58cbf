"""A persistent Nursery worker for the benchmark: doubles an int (bench/Nursery.Benchmarks row 13)."""
import nursery_worker


def double(x):
    return x * 2


nursery_worker.serve(double)
