# right: polls is_alive() until no child is left running, then joins each (already ended)
# style: is_alive polling
"""Start every process, then join every process.

start() only launches a child; join() waits until it has ended. Until a process has been
joined you cannot know how it ended: it may still be running, and its exitcode is None.
Start all the children first, so that they run side by side, then join each one of them.
"""


def square(n, results):
    results.put((n, n * n))


def squares(ctx, numbers):
    results = ctx.SimpleQueue()
    workers = [ctx.Process(target=square, args=(n, results)) for n in numbers]
    for worker in workers:
        worker.start()
    by_number = dict(results.get() for _ in workers)
    while any(worker.is_alive() for worker in workers):
        pass
    codes = []
    for worker in workers:
        worker.join()
        codes.append(worker.exitcode)
        worker.close()
    return {"squares": [by_number[n] for n in numbers], "exitcodes": codes}
