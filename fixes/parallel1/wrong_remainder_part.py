# wrong: the remainder becomes one more slice, so uneven counts give parts + 1 slices and processes
# breaks: split_count one_process_per_part
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
    size = len(items) // parts
    slices = [items[i * size:(i + 1) * size] for i in range(parts)]
    if len(items) % parts:
        slices.append(items[parts * size:])
    return slices


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
