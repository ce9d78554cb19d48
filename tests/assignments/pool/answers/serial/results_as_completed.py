def results_as_completed(func, items, processes=2):
    return [func(x) for x in items]
