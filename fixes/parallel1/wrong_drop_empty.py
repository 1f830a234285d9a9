# wrong: leaves out empty slices, so fewer items than parts gives fewer slices than parts
# breaks: split_count
# caught-on: fork spawn forkserver
"""Split the work, then gather every piece.

Parallel work is cut into parts, each part runs in its own process, and the parts'
results are put back together at the end. The cut has to be exact: when the numbers do
not divide evenly among the parts, a slice size rounded down leaves the remainder out,
and nothing complains, because every process finished without an error.
"""


def square_part(index, part, results):
    results.put((index, [n * n for n in part]))


def split(items, parts):
    """Cut `items` into `parts` consecutive slices that hold every item exactly once."""
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    slices = [items[bounds[i]:bounds[i + 1]] for i in range(parts)]
    return [s for s in slices if s]


def squares_in_parts(ctx, numbers, parts):
    """Square `numbers` in `parts` processes, one slice each; return the squares in input order."""
    chunks = split(numbers, parts)
    results = ctx.Queue()
    workers = [ctx.Process(target=square_part, args=(i, chunk, results)) for i, chunk in enumerate(chunks)]
    for worker in workers:
        worker.start()
    # Drain the queue before joining: a child exits only once what it put is delivered.
    by_index = dict(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    # Merge in slice order, whatever order the parts finished in.
    return [square for index in sorted(by_index) for square in by_index[index]]
