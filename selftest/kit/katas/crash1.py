"""Ends the whole test process, as a learner's os._exit would."""

import os


def finish(ctx):
    # TODO: do not end the process
    os._exit(0)
