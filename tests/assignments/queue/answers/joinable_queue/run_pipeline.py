# Deliberately the reference answer with one change: the tasks go on a JoinableQueue, and
# tasks.join() waits until each one is marked done. The rest repeats the reference on purpose, so
# that this answer differs from it in that one way only.
def run_pipeline(func, items, n_consumers=2):
    tasks, results = mp.JoinableQueue(), mp.Queue()
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
    tasks.join()
    for c in consumers:
        c.join(timeout=30)
    return out
