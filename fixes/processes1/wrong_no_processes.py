# wrong: the answer is computed in the caller; no child process runs at all
# breaks: own_child name_read_in_child
# caught-on: fork spawn forkserver
"""Name your processes."""


def squares_by_name(ctx, numbers):
    """Square every number in its own process, named "square-<n>"; return {name: square}."""
    return {f"square-{n}": n * n for n in numbers}
