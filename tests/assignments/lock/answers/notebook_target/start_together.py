# Deliberately the reference answer with one change: the target is a function defined in the
# notebook (worker), where a spawned child cannot import it. The rest repeats the reference on
# purpose, so that this answer differs from it in that one way only.
def worker(start, func, item, results):
    starting.wait_for_start(start, func, item, results)


def start_together(func, items):
    start, results = mp.Event(), mp.Queue()
    workers = [mp.Process(target=worker, args=(start, func, item, results)) for item in items]
    for w in workers:
        w.start()
    for _ in workers:
        results.get(timeout=30)
    start.set()
    collected = [results.get(timeout=30) for _ in workers]
    for w in workers:
        w.join(timeout=10)
    return collected
