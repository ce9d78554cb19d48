# Deliberately the reference answer with one change: one consumer process is started, whatever
# n_consumers says. The rest repeats the reference on purpose, so that this answer differs from it
# in that one way only.
def run_pipeline(func, items, n_consumers=2):
    tasks, results = mp.Queue(), mp.Queue()
    consumer = mp.Process(target=queue_consumer.consume, args=(tasks, results, func))
    consumer.start()
    consumers = [consumer]
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
