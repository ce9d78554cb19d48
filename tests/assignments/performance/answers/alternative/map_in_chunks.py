from concurrent.futures import ProcessPoolExecutor


def map_in_chunks(func, items, workers, chunksize):
    with ProcessPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(func, items, chunksize=chunksize))
