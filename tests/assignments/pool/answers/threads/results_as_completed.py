from multiprocessing.pool import ThreadPool


def results_as_completed(func, items, processes=2):
    with ThreadPool(processes) as pool:
        return list(pool.imap_unordered(func, items))
