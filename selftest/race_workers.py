"""Worker functions for selftest/test_race.py: module level, so spawn and forkserver children import them."""

import multiprocessing, threading

def unlocked(counter, times, lock=None):
    for _ in range(times):
        counter.value += 1

def get_lock(counter, times, lock=None):
    for _ in range(times):
        with counter.get_lock():
            counter.value += 1

def own_lock(counter, times, lock):
    for _ in range(times):
        with lock:
            counter.value += 1

def whole_loop(counter, times, lock):
    with lock:
        for _ in range(times):
            counter.value += 1

def read_only_locked(counter, times, lock):
    for _ in range(times):
        with lock:
            v = counter.value
        counter.value = v + 1

def write_only_locked(counter, times, lock):
    for _ in range(times):
        v = counter.value
        with lock:
            counter.value = v + 1

def per_worker_lock(counter, times, lock=None):
    lock = multiprocessing.Lock()
    for _ in range(times):
        with lock:
            counter.value += 1

def thread_lock(counter, times, lock=None):
    lock = threading.Lock()
    for _ in range(times):
        with lock:
            counter.value += 1

def read_and_write_locked_apart(counter, times, lock):
    for _ in range(times):
        with lock:
            v = counter.value
        with lock:
            counter.value = v + 1


def acquire_release(counter, times, lock):
    for _ in range(times):
        lock.acquire()
        try:
            counter.value += 1
        finally:
            lock.release()

def cond(counter, times, lock):
    for _ in range(times):
        with lock:
            counter.value += 1

def count_alone(times):
    n = 0
    for _ in range(times):
        n += 1
    return n

_shared = None
def init(counter):
    global _shared
    _shared = counter

def pool_task(times):
    for _ in range(times):
        with _shared.get_lock():
            _shared.value += 1
    return 0

def put_count(q, times):
    q.put(count_alone(times))

def tally(numbers, counts, lock=None):
    for n in numbers:
        if lock is None:
            counts[n % len(counts)] += 1
        else:
            with lock:
                counts[n % len(counts)] += 1


def pool_sum(race, w, t):
    with race.Pool(w) as pool:
        return sum(pool.map(count_alone, [t] * w))


def exec_sum(race, w, t):
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=w, mp_context=race) as ex:
        return sum(ex.map(count_alone, [t] * w))


def pool_shared(race, w, t):
    c = race.Value("i", 0)
    with race.Pool(w, initializer=init, initargs=(c,)) as pool:
        pool.map(pool_task, [t] * w)
    return c.value


def exec_shared(race, w, t):
    from concurrent.futures import ProcessPoolExecutor

    c = race.Value("i", 0)
    with ProcessPoolExecutor(max_workers=w, mp_context=race, initializer=init, initargs=(c,)) as ex:
        list(ex.map(pool_task, [t] * w))
    return c.value


def queue_sum(race, w, t):
    q = race.Queue()
    ps = [race.Process(target=put_count, args=(q, t)) for _ in range(w)]
    for p in ps:
        p.start()
    total = sum(q.get() for _ in ps)
    for p in ps:
        p.join()
    return total


def sequential(race, w, t):
    c = race.Value("i", 0)
    for _ in range(w):
        p = race.Process(target=get_lock, args=(c, t))
        p.start()
        p.join()
    return c.value


def hist(race, lock):
    counts = race.Array("i", 4, lock=lock != "raw")
    shared = race.Lock() if lock == "Lock" else (counts.get_lock() if lock == "get_lock" else None)
    chunks = [list(range(0, 8)), list(range(8, 16)), list(range(16, 24))]
    ps = [race.Process(target=tally, args=(c, counts, shared)) for c in chunks]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return list(counts)


def idle(times):
    count_alone(times)  # counted, and kept to itself


def idle_workers_and_arithmetic(race, w, t):
    ps = [race.Process(target=idle, args=(t,)) for _ in range(w)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return w * t
