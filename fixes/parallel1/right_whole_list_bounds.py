# right: each part's process gets the whole list and its own bounds, squares items[lo:hi] with n ** 2, and sends (lo, squares)
# style: whole list with bounds, Queue
"""Split the work, then gather every piece.

Parallel work is cut into parts, the parts run side by side, each in its own process,
and their results are put back together in order at the end. The cut has to be exact:
when the numbers do not divide evenly among the parts, a slice size rounded down leaves
the remainder out, and nothing complains, because every process finished without an error.
"""


def square_range(numbers, lo, hi, results):
    results.put((lo, [numbers[i] ** 2 for i in range(lo, hi)]))


def bounds(count, parts):
    size, extra = divmod(count, parts)
    return [i * size + min(i, extra) for i in range(parts + 1)]


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    cuts = bounds(len(items), parts)
    return [items[cuts[i]:cuts[i + 1]] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    cuts = bounds(len(numbers), parts)
    results = ctx.Queue()
    workers = [ctx.Process(target=square_range, args=(numbers, cuts[i], cuts[i + 1], results)) for i in range(parts)]
    for worker in workers:
        worker.start()
    pieces = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return [square for lo in sorted(pieces) for square in pieces[lo]]
