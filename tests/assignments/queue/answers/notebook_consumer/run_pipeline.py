# Deliberately the reference answer with one change: the consumer is defined in the notebook
# (consume_here), where a spawned child cannot import it. The rest repeats the reference on
# purpose, so that this answer differs from it in that one way only.
def consume_here(tasks, results, func):
    while (item := tasks.get()) is not None:
        results.put((item, func(item)))


def run_pipeline(func, items, n_consumers=2):
    tasks, results = mp.Queue(), mp.Queue()
    consumers = [
        mp.Process(target=consume_here, args=(tasks, results, func)) for _ in range(n_consumers)
    ]
    for c in consumers:
        c.start()
    for item in items:
        tasks.put(item)
    for _ in consumers:
        tasks.put(None)
    out = {}
    for _ in items:
        item, result = results.get()
        out[item] = result
    for c in consumers:
        c.join()
    return out
