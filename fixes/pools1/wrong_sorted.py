# wrong: sorting the squares is not the order of numbers (3, 1, 2 -> 9, 1, 4)
# breaks: input_order
# caught-on: fork spawn forkserver
"""Reuse worker processes instead of starting one per task.

Starting a process costs far more than a tiny task: about 2 ms under fork and 40 ms
under spawn, against well under a microsecond for a square. Starting `workers`
processes at a time keeps the machine from being flooded, but still starts one process
per number. A pool starts its workers once and hands each of them task after task.
"""


def square(n):
    return n * n


def square_into(results, n):
    results.put((n, square(n)))


def squares(ctx, numbers, workers=2):
    """Square every number, starting no more than `workers` processes in all.

    Returns the squares in the order of `numbers`.
    """
    with ctx.Pool(workers) as pool:
        return sorted(pool.imap_unordered(square, numbers))
