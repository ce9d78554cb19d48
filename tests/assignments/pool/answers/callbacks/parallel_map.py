def parallel_map(func, items, processes=2):
    pool = mp.Pool(processes=processes)
    try:
        results = pool.map(func, items, chunksize=1)
    finally:
        pool.close()
        pool.join()
    return results
