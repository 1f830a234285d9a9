"""Doubles, computed in a pool."""


def double(n):
    return n * 2


def doubles(ctx, numbers):
    with ctx.Pool(2) as pool:
        # map sends each number to a worker
        return pool.map(double, numbers)
