# Deliberately the reference answer with one change: both queues are SimpleQueues (whose get()
# takes no timeout). The rest repeats the reference on purpose, so that this answer differs from
# it in that one way only.
def run_pipeline(func, items, n_consumers=2):
    tasks, results = mp.SimpleQueue(), mp.SimpleQueue()
    consumers = [
        mp.Process(target=queue_consumer.consume, args=(tasks, results, func))
        for _ in range(n_consumers)
    ]
    for c in consumers:
        c.start()
    items = list(items)
    for item in items:
        tasks.put(item)
    for _ in consumers:
        tasks.put(None)
    out = dict(results.get() for _ in items)
    for c in consumers:
        c.join(timeout=30)
    return out
