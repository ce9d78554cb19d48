def parallel_map(func, items, processes=2):
    return [func(x) for x in items]
