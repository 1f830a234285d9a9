def crash(ctx):
    return 0
