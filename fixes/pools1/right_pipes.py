# right: `workers` processes, each squares every workers-th number and sends its list down its own Pipe
# style: hand-made workers with Pipes, read in a fixed order
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
    count = max(1, min(workers, len(numbers)))
    pipes, team = [], []
    for i in range(count):
        receiver, sender = ctx.Pipe(duplex=False)
        process = ctx.Process(target=square_slice, args=(sender, numbers[i::count]))
        process.start()
        sender.close()
        pipes.append(receiver)
        team.append(process)
    shares = [receiver.recv() for receiver in pipes]
    for process in team:
        process.join()
    squared = [None] * len(numbers)
    for i, share in enumerate(shares):
        squared[i::count] = share
    return squared


def square_slice(sender, share):
    sender.send([square(n) for n in share])
    sender.close()
