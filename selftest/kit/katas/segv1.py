"""Crashes the interpreter with a segmentation fault."""

import ctypes


def crash(ctx):
    # TODO: do not dereference NULL
    ctypes.string_at(0)
    return 0
