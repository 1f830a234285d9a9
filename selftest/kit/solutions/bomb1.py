def explode(ctx):
    return 0
