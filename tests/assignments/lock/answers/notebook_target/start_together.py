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
