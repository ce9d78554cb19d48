# Deliberately the reference answer with one change: each consumer's target is a lambda, which
# spawn and forkserver cannot pickle. The rest repeats the reference on purpose, so that this
# answer differs from it in that one way only.
def run_pipeline(func, items, n_consumers=2):
    tasks, results = mp.Queue(), mp.Queue()
    consumers = [
        mp.Process(target=lambda: queue_consumer.consume(tasks, results, func))
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
    for c in consumers:
        c.join(timeout=30)
    return out
