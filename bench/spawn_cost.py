"""Median start+join of a spawned child whose target is bench._child.noop.

Run bare (`python bench/spawn_cost.py N`) or from inside a kit test run (the benchmark
calls `measure` from a pytest process that has the dojo plugin loaded)."""

import multiprocessing
import statistics
import sys
import time


def measure(n: int = 15, method: str = "spawn") -> float:
    from bench._child import noop

    ctx = multiprocessing.get_context(method)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        p = ctx.Process(target=noop)
        p.start()
        p.join()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


if __name__ == "__main__":
    sys.path.insert(0, ".")
    print(f"{measure(int(sys.argv[1]) if len(sys.argv) > 1 else 15):.4f}")
