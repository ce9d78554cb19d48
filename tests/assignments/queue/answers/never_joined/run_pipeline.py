# Deliberately the reference answer with one change: the consumer processes are never joined. The
# rest repeats the reference on purpose, so that this answer differs from it in that one way only.
def run_pipeline(func, items, n_consumers=2):
    tasks, results = mp.Queue(), mp.Queue()
    consumers = [
        mp.Process(target=queue_consumer.consume, args=(tasks, results, func))
        for _ in range(n_consumers)
    ]
    for c in consumers:
        c.start()
    for item in items:
        tasks.put(item)
    for _ in consumers:
        tasks.put(None)
    out = {}
    for _ in items:
        item, result = results.get(timeout=30)
        out[item] = result
    return out
