from multiprocessing.pool import ThreadPool


def parallel_map(func, items, processes=2):
    with ThreadPool(processes) as pool:
        return pool.map(func, items)
