def parallel_map(func, items, processes=2):
    pool = mp.Pool(processes)
    return pool.map(func, items)
