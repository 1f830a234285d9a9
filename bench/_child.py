"""The target of the spawn benchmark: nothing, so that only the start cost is measured."""


def noop():
    pass
