from concurrent.futures import ProcessPoolExecutor


def parallel_map(func, items, processes=2):
    with ProcessPoolExecutor(max_workers=processes, mp_context=mp.get_context()) as ex:
        return list(ex.map(func, items))
