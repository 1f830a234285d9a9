# right: slices by itertools.islice over lengths that add up to len(items); each part writes its squares into its own range of a shared Array
# style: islice lengths, shared Array by offset
"""Split the work, then gather every piece.

Parallel work is cut into parts, each part runs in its own process, and the parts'
results are put back together at the end. The cut has to be exact: when the numbers do
not divide evenly among the parts, a slice size rounded down leaves the remainder out,
and nothing complains, because every process finished without an error.
"""

from itertools import accumulate


def square_part(shared, start, part):
    for offset, n in enumerate(part):
        shared[start + offset] = n * n


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    lengths = [size + 1] * extra + [size] * (parts - extra)
    ends = list(accumulate(lengths))
    return [items[end - length:end] for end, length in zip(ends, lengths)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    shared = ctx.Array("q", len(numbers))
    workers, start = [], 0
    for chunk in split(numbers, parts):
        workers.append(ctx.Process(target=square_part, args=(shared, start, chunk)))
        start += len(chunk)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(shared[:])
