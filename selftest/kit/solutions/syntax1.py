def broken(ctx):
    return 1
