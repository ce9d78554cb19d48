def map_in_chunks(func, items, workers, chunksize):
    with mp.Pool(workers) as pool:
        return pool.map(func, items)
