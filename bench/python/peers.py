"""Python peers for the Nursery benchmark harness (stdlib only).

Runs `x*2` over ints and a 10 KiB string echo through multiprocessing.Pool and
concurrent.futures.ProcessPoolExecutor with 2 workers, and prints one JSON object:
{"python": "3.x", "rows": {"mp64": [items/s, ...], ...}}. Pools are started
before timing (start-up excluded, as for Nursery's throughput rows); every result
is checked. One untimed warm-up run per row, then the timed runs, interleaved.

usage: python3 peers.py --items N --items1 N1 --echo E --runs R [--only a,b]
"""
import argparse
import concurrent.futures
import json
import multiprocessing
import sys
import time

PAYLOAD = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 200)[:10240]


def double(x):
    return x * 2


def echo(text):
    return text


def timed_map(mapper, fn, items, chunksize, check):
    start = time.perf_counter()
    results = list(mapper(fn, items, chunksize=chunksize))
    elapsed = time.perf_counter() - start
    check(results)
    return elapsed


def check_doubles(n):
    def check(results):
        if len(results) != n or results[-1] != 2 * (n - 1) or sum(results) != n * (n - 1):
            raise SystemExit("wrong results from the pool")
    return check


def check_echo(n):
    def check(results):
        if len(results) != n or any(r[8:] != PAYLOAD[8:] or r[:8] != "%08d" % i for i, r in enumerate(results)):
            raise SystemExit("wrong echo results from the pool")
    return check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--items1", type=int, required=True)
    parser.add_argument("--echo", type=int, required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(",")))

    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(2)
    executor = concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx)
    # start both pools' workers before timing
    pool.map(double, range(4), chunksize=1)
    list(executor.map(double, range(4), chunksize=1))

    # distinct string objects: pickle memoises a repeated object within a chunk, which would send one copy for 64
    echo_items = ["%08d" % i + PAYLOAD[8:] for i in range(args.echo)]
    rows = {
        "mp64": (pool.map, double, lambda: range(args.items), 64, args.items, check_doubles(args.items)),
        "mp1": (pool.map, double, lambda: range(args.items1), 1, args.items1, check_doubles(args.items1)),
        "ppe64": (executor.map, double, lambda: range(args.items), 64, args.items, check_doubles(args.items)),
        "ppe1": (executor.map, double, lambda: range(args.items1), 1, args.items1, check_doubles(args.items1)),
        "mp64echo": (pool.map, echo, lambda: echo_items, 64, args.echo, check_echo(args.echo)),
    }
    if wanted:
        rows = {k: v for k, v in rows.items() if k in wanted}
    rates = {k: [] for k in rows}
    for run in range(-1, args.runs):
        for name, (mapper, fn, items, chunksize, n, check) in rows.items():
            elapsed = timed_map(mapper, fn, items(), chunksize, check)
            if run >= 0:
                rates[name].append(n / elapsed)
    pool.close()
    pool.join()
    executor.shutdown(wait=True)
    json.dump({"python": sys.version.split()[0], "rows": rates}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
