def sized_map(func, items):
    items = list(items)
    n_workers = max(1, len(items))
    chunksize = max(1, math.ceil(len(items) / (4 * n_workers)))
    with mp.Pool(n_workers) as pool:
        return pool.map(func, items, chunksize=chunksize)
