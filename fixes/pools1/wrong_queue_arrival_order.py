# wrong: `workers` long-lived processes, but the parent lists the squares in the order they arrive
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
    results = ctx.Queue()
    count = max(1, min(workers, len(numbers)))
    jobs = list(enumerate(numbers))
    team = [ctx.Process(target=square_share, args=(results, jobs[i::count])) for i in range(count)]
    for process in team:
        process.start()
    squared = []
    for _ in numbers:
        _i, sq = results.get()
        squared.append(sq)
    for process in team:
        process.join()
    return squared


def square_share(results, jobs):
    for i, n in jobs:
        results.put((i, square(n)))
