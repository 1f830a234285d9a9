# wrong: a Pipe per part, read with connection.wait() as each becomes ready: merged in arrival order
# breaks: merged_in_order
# caught-on: fork spawn forkserver
"""Split the work, then gather every piece.

Parallel work is cut into parts, the parts run side by side, each in its own process,
and their results are put back together in order at the end. The cut has to be exact:
when the numbers do not divide evenly among the parts, a slice size rounded down leaves
the remainder out, and nothing complains, because every process finished without an error.
"""

from multiprocessing.connection import wait


def square_part(conn, part):
    conn.send([n * n for n in part])
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
    merged, pending = [], list(readers)
    while pending:
        for conn in wait(pending):
            merged.extend(conn.recv())
            pending.remove(conn)
            conn.close()
    for worker in workers:
        worker.join()
    return merged
