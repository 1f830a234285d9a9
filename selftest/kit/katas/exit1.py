"""Leaves at import time, as a stray sys.exit() would."""

import sys

# TODO: no sys.exit at import
sys.exit(0)


def finish(ctx):
    return 0
