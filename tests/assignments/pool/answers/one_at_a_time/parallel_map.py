def parallel_map(func, items, processes=2):
    with mp.Pool(processes) as pool:
        return [pool.apply_async(func, (x,)).get(timeout=30) for x in items]
