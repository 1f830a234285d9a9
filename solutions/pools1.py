"""Reuse worker processes instead of starting one per task.

Starting a process costs far more than a tiny task: about 2 ms under fork and 40 ms
under spawn, against well under a microsecond for a square. Starting `workers`
processes at a time keeps the machine from being flooded, but still starts one process
per number. A pool starts its workers once and hands each of them task after task.
"""


def square(n):
    return n * n


def square_into(results, n):
    # No longer used: a pool sends each task's return value back by itself.
    results.put((n, square(n)))


def squares(ctx, numbers, workers=2):
    """Square every number in worker processes made from `ctx`, starting no more than
    `workers` processes in all.

    Returns the squares in the order of `numbers`.
    """
    # The pool starts its `workers` processes once; map() hands them the numbers in
    # chunks, so the start-up cost is paid `workers` times, not once per number. map()
    # also returns the results in input order, so no bookkeeping is needed.
    with ctx.Pool(workers) as pool:
        return pool.map(square, numbers)
