def sized_map(func, items):
    items = list(items)
    n_workers = max(1, min(usable_cpus(), len(items)))
    chunksize = max(1, math.ceil(len(items) / n_workers))
    with mp.Pool(n_workers) as pool:
        return pool.map(func, items, chunksize=chunksize)
