def run_pipeline(func, items, n_consumers=2):
    from concurrent.futures import ProcessPoolExecutor, wait

    with mp.Manager() as manager, ProcessPoolExecutor(n_consumers) as pool:
        tasks, results = manager.Queue(), manager.Queue()
        running = [
            pool.submit(queue_consumer.consume, tasks, results, func) for _ in range(n_consumers)
        ]
        items = list(items)
        for item in items + [None] * n_consumers:
            tasks.put(item)
        out = dict(results.get(timeout=30) for _ in items)
        wait(running, timeout=30)
        return out
