# right: named processes, each sends (its name, its square) through its own Pipe
# style: one Pipe per child
"""Name your processes (results through pipes)."""

from multiprocessing import current_process


def square(n, conn):
    conn.send((current_process().name, n * n))
    conn.close()


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    jobs = []
    for n in numbers:
        receiver, sender = ctx.Pipe(duplex=False)
        worker = ctx.Process(target=square, args=(n, sender), name=f"square-{n}")
        worker.start()
        sender.close()
        jobs.append((worker, receiver))
    by_name = {}
    for worker, receiver in jobs:
        name, value = receiver.recv()
        receiver.close()
        by_name[name] = value
    for worker, _ in jobs:
        worker.join()
    return by_name
