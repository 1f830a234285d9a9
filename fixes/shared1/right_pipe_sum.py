# right: each worker counts privately and sends its count through its own ctx.Pipe; the parent sums
# style: per-worker counts over Pipes
"""Shared counters lose updates.

`counter.value += 1` is three steps: read the shared number, add one, write it back. Two
processes that read the same number both write number + 1, and one increment is gone.
Nine processes adding 1 fifty times each once ended at 320 instead of 450; the next run
may well say 450, which is what makes this bug so hard to see.
"""


def add_up(conn, times):
    count = 0
    for _ in range(times):
        count += 1
    conn.send(count)
    conn.close()


def count_together(ctx, workers, times):
    """Start `workers` processes that each add 1 to one shared counter `times` times; return the total."""
    pipes = [ctx.Pipe(duplex=False) for _ in range(workers)]
    processes = [ctx.Process(target=add_up, args=(send, times)) for _, send in pipes]
    for process in processes:
        process.start()
    for _, send in pipes:
        send.close()
    total = 0
    for receive, _ in pipes:
        total += receive.recv()
        receive.close()
    for process in processes:
        process.join()
    return total
