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
