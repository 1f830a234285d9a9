"""Workers that tests hand to pool katas: fast tasks, and stragglers the test holds back.

    test:   with ctx.Manager() as m:
                release, finished = m.Event(), m.Event()
                fn = HoldBack(hold=[3], release=release, finished=finished, deadline=1.0)
                kata.gather(ctx, fn, [1, 2, 3], timeout)      # fn pickles: proxies inside
    worker: fn(1) -> 1, fn(2) -> 4 at once
            fn(3) waits until the test sets `release`, or `deadline` seconds pass, then
                  sets `finished` and returns 9
    test:   finished.is_set() right after the kata returned tells, from outside, whether
            the kata waited for the straggler; then it sets `release` and waits for the
            pool's processes to go.

The deadline only bounds what an unsolved kata costs (a pool that waits for its
stragglers waits `deadline` seconds, not the test timeout). Kept importable and free of
pytest: spawn and forkserver children import this module to unpickle HoldBack.
"""

from __future__ import annotations


class HoldBack:
    """``fn(item) -> item * item``; items in ``hold`` straggle until released."""

    def __init__(self, hold, release, finished, deadline: float):
        self.hold = list(hold)
        self.release = release
        self.finished = finished
        self.deadline = deadline

    def __call__(self, item):
        if item in self.hold:
            try:
                self.release.wait(self.deadline)
            finally:
                self.finished.set()
        return item * item

    def __repr__(self):
        return f"HoldBack(hold={self.hold!r}, deadline={self.deadline!r})"
