# right: a Pipe per part; the part multiplies int(n) by itself with operator.mul; the parent reads the pipes in slice order
# style: Pipes with operator.mul
"""Split the work, then gather every piece.

Parallel work is cut into parts, the parts run side by side, each in its own process,
and their results are put back together in order at the end. The cut has to be exact:
when the numbers do not divide evenly among the parts, a slice size rounded down leaves
the remainder out, and nothing complains, because every process finished without an error.
"""

import operator


def square_part(conn, part):
    conn.send([operator.mul(int(n), int(n)) for n in part])
    conn.close()


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [items[bounds[i]:bounds[i + 1]] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    workers, readers = [], []
    for chunk in split(numbers, parts):
        here, there = ctx.Pipe(duplex=False)
        worker = ctx.Process(target=square_part, args=(there, chunk))
        worker.start()
        there.close()
        workers.append(worker)
        readers.append(here)
    pieces = [here.recv() for here in readers]
    for worker, here in zip(workers, readers):
        worker.join()
        here.close()
    return [square for piece in pieces for square in piece]
