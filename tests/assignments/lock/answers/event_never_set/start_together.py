# Deliberately the reference answer with one change: start.set() is never called, so the workers
# wait for the Event until they time out. The rest repeats the reference on purpose, so that this
# answer differs from it in that one way only.
def start_together(func, items):
    start, results = mp.Event(), mp.Queue()
    workers = [
        mp.Process(target=starting.wait_for_start, args=(start, func, item, results))
        for item in items
    ]
    for w in workers:
        w.start()
    for _ in workers:
        results.get(timeout=30)
    collected = [results.get(timeout=30) for _ in workers]
    for w in workers:
        w.join(timeout=10)
    return collected
