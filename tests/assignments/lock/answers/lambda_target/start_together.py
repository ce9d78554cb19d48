# Deliberately the reference answer with one change: each worker's target is a lambda, which spawn
# and forkserver cannot pickle. The rest repeats the reference on purpose, so that this answer
# differs from it in that one way only.
def start_together(func, items):
    start, results = mp.Event(), mp.Queue()
    workers = [
        mp.Process(target=lambda item=item: starting.wait_for_start(start, func, item, results))
        for item in items
    ]
    for w in workers:
        w.start()
    for _ in workers:
        results.get(timeout=30)
    start.set()
    collected = [results.get(timeout=30) for _ in workers]
    for w in workers:
        w.join(timeout=10)
    return collected
