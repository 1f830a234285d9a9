# right: children store into a Manager dict; all started, all joined, manager shut down by with
# style: Manager dict
"""Start every process, then join every process.

start() only launches a child; join() waits until it has ended. Until a process has been
joined you cannot know how it ended: it may still be running, and its exitcode is None.
Start all the children first, so that they run side by side, then join each one of them.
"""


def square(i, n, out):
    out[i] = n * n


def squares(ctx, numbers):
    with ctx.Manager() as manager:
        out = manager.dict()
        workers = [ctx.Process(target=square, args=(i, n, out)) for i, n in enumerate(numbers)]
        for worker in workers:
            worker.start()
        for worker in reversed(workers):
            worker.join()
        got = [out[i] for i in range(len(numbers))]
    return {"squares": got, "exitcodes": [worker.exitcode for worker in workers]}
