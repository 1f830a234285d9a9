# right: one Pipe per child; all started before any recv or join; every child joined
# style: a Pipe per child
"""Start every process, then join every process.

start() only launches a child; join() waits until it has ended. Until a process has been
joined you cannot know how it ended: it may still be running, and its exitcode is None.
Start all the children first, so that they run side by side, then join each one of them.
"""


def square(n, conn):
    conn.send(n * n)
    conn.close()


def squares(ctx, numbers):
    pairs = []
    for n in numbers:
        receiver, sender = ctx.Pipe(duplex=False)
        worker = ctx.Process(target=square, args=(n, sender))
        pairs.append((worker, receiver))
    for worker, _ in pairs:
        worker.start()
    got = [receiver.recv() for _, receiver in pairs]
    for worker, receiver in pairs:
        worker.join()
        receiver.close()
    return {"squares": got, "exitcodes": [worker.exitcode for worker, _ in pairs]}
