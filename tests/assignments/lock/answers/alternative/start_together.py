def start_together(func, items):
    ctx = mp.get_context()
    go = ctx.Event()
    inbox = ctx.Queue()
    procs = {}
    for i, item in enumerate(items):
        procs[i] = ctx.Process(target=starting.wait_for_start, args=(go, func, item, inbox, 20))
        procs[i].start()
    ready = 0
    while ready < len(procs):
        if inbox.get(timeout=30) == "ready":
            ready += 1
    go.set()
    out = []
    try:
        while len(out) < len(procs):
            out.append(inbox.get(timeout=30))
    finally:
        for p in procs.values():
            p.join(timeout=10)
    return out
