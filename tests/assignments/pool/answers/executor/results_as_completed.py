from concurrent.futures import ProcessPoolExecutor, as_completed


def results_as_completed(func, items, processes=2):
    with ProcessPoolExecutor(max_workers=processes) as ex:
        futures = [ex.submit(func, item) for item in items]
        return [f.result(timeout=30) for f in as_completed(futures)]
