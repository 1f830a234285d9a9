def kill_everyone(ctx):
    return 0
