# wrong: the parent squares with pow(int(n), 2) before splitting; the parts only send their slice back
# breaks: in_children
# caught-on: fork spawn forkserver
"""Split the work, then gather every piece.

Parallel work is cut into parts, the parts run side by side, each in its own process,
and their results are put back together in order at the end. The cut has to be exact:
when the numbers do not divide evenly among the parts, a slice size rounded down leaves
the remainder out, and nothing complains, because every process finished without an error.
"""


def send_part(index, part, results):
    results.put((index, list(part)))


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [items[bounds[i]:bounds[i + 1]] for i in range(parts)]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    chunks = split([pow(int(n), 2) for n in numbers], parts)
    results = ctx.Queue()
    workers = [ctx.Process(target=send_part, args=(i, chunk, results)) for i, chunk in enumerate(chunks)]
    for worker in workers:
        worker.start()
    by_index = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return [square for index in sorted(by_index) for square in by_index[index]]
