def run_pipeline(func, items, n_consumers=2):
    ctx = mp.get_context()
    items = list(items)
    tasks, results = ctx.Queue(), ctx.Queue()
    for item in items + [None] * n_consumers:
        tasks.put(item)
    consumers = []
    for i in range(n_consumers):
        p = ctx.Process(
            target=queue_consumer.consume,
            args=(tasks, results, func),
            name=f"consumer-{i}",
            daemon=True,
        )
        p.start()
        consumers.append(p)
    out = {}
    try:
        while len(out) < len(items):
            item, value = results.get(timeout=20)
            out[item] = value
    finally:
        for p in consumers:
            p.join(timeout=20)
    return out
