# right: slice size rounded up; the last slices are shorter or empty, nothing falls off; results through a Pipe per part
# style: ceil-sized slices, Pipe per part
"""Split the work, then gather every piece.

Parallel work is cut into parts, each part runs in its own process, and the parts'
results are put back together at the end. The cut has to be exact: when the numbers do
not divide evenly among the parts, a slice size rounded down leaves the remainder out,
and nothing complains, because every process finished without an error.
"""


def square_part(conn, part):
    conn.send([n * n for n in part])
    conn.close()


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size = -(-len(items) // parts)
    return [items[i * size:(i + 1) * size] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    chunks = split(numbers, parts)
    pipes = [ctx.Pipe(duplex=False) for _ in chunks]
    workers = [ctx.Process(target=square_part, args=(send, chunk)) for (_, send), chunk in zip(pipes, chunks)]
    for worker in workers:
        worker.start()
    merged = []
    for receive, send in pipes:  # in slice order
        send.close()
        merged.extend(receive.recv())
    for worker in workers:
        worker.join()
    return merged
