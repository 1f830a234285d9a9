"""Does not parse."""


def broken(ctx)
    # TODO: add the colon
    return 1
