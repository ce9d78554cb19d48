def results_as_completed(func, items, processes=2):
    with mp.Pool(processes) as pool:
        return pool.map(func, items)
