# right: each child writes its own slot of a shared Array; all started, then all joined, then read
# style: shared Array slots
"""Start every process, then join every process.

start() only launches a child; join() waits until it has ended. Until a process has been
joined you cannot know how it ended: it may still be running, and its exitcode is None.
Start all the children first, so that they run side by side, then join each one of them.
"""


def square(i, n, out):
    out[i] = n * n


def squares(ctx, numbers):
    out = ctx.Array("q", len(numbers))
    workers = [ctx.Process(target=square, args=(i, n, out)) for i, n in enumerate(numbers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"squares": list(out), "exitcodes": [worker.exitcode for worker in workers]}
