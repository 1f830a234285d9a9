def leave_things(ctx):
    return "nothing"
