def sized_map(func, items):
    items = list(items)
    if not items:
        return []
    n = min(usable_cpus(), len(items))
    size = -(-len(items) // (4 * n))  # ceiling division
    pool = mp.Pool(processes=n)
    try:
        return pool.map(func, items, size)
    finally:
        pool.close()
        pool.join()
