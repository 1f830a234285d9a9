import time

from dojo.family import JoinGateContext

# The children of a JoinGateContext end only once their parent waits for them (join): an
# exit code read from a process nobody joined is None every time, not just when that child
# happens to be slow. open_all() then lets go whatever the kata did not join and waits
# until those children have ended, without reaping them.


def still_running(host, seconds=5.0):
    """The host's children that have not ended, after giving them up to `seconds` to end.

    A child whose end was just signalled may need a moment before the process table shows
    it as a zombie, and the operating system offers no event for that which a test could
    wait on from outside, so this polls. It returns as soon as every child has ended (at
    once when there is none); the limit only bounds a broken kata.
    """
    deadline = time.monotonic() + seconds
    while True:
        running = [child["pid"] for child in host.children() if child["status"] != "zombie"]
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.005)


def test_a_job_whose_process_raised_is_reported_as_failed(kata, mp_context, teach):
    jobs = [4, -1, 9]
    ctx = JoinGateContext(mp_context)
    try:
        got = kata.failed_jobs(ctx, jobs)
    finally:
        ctx.open_all()
    want = [-1]
    assert got == want, teach("failure_missed", jobs=jobs, got=got, want=want)


def test_no_child_is_left_a_zombie(kata, mp_context, teach, host):
    jobs = [1, 2]
    ctx = JoinGateContext(mp_context)
    try:
        got = kata.failed_jobs(ctx, jobs)
    finally:
        ctx.open_all()
    running = still_running(host)
    assert running == [], teach("children_running", jobs=jobs, running=running)
    zombies = host.zombies()
    assert zombies == [], teach("zombies_left", jobs=jobs, zombies=zombies, count=len(zombies))
    assert got == [], teach("success_reported_as_failure", jobs=jobs, got=got)
