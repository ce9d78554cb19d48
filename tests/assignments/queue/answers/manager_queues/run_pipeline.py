# Deliberately the reference answer with one change: both queues come from a Manager (proxies),
# inside its `with` block. The rest repeats the reference on purpose, so that this answer differs
# from it in that one way only.
def run_pipeline(func, items, n_consumers=2):
    with mp.Manager() as manager:
        tasks, results = manager.Queue(), manager.Queue()
        consumers = [
            mp.Process(target=queue_consumer.consume, args=(tasks, results, func))
            for _ in range(n_consumers)
        ]
        for c in consumers:
            c.start()
        items = list(items)
        for item in items + [None] * n_consumers:
            tasks.put(item)
        out = dict(results.get(timeout=30) for _ in items)
        for c in consumers:
            c.join(timeout=30)
        return out
