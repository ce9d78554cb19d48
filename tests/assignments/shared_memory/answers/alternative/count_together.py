def count_together(processes, times):
    ctx = mp.get_context()
    counter = ctx.Value("q", 0)
    workers = []
    for _ in range(processes):
        p = ctx.Process(target=counting.add_many, args=(counter, times))
        p.start()
        workers.append(p)
    for p in workers:
        p.join(timeout=60)
    with counter.get_lock():
        return counter.value
