from concurrent.futures import ProcessPoolExecutor


def map_reporting_errors(func, items, processes=2):
    with ProcessPoolExecutor(max_workers=processes) as ex:
        futures = {item: ex.submit(func, item) for item in items}
        return {item: (f.exception(timeout=30) or f.result()) for item, f in futures.items()}
