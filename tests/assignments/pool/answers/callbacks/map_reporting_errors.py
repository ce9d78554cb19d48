def map_reporting_errors(func, items, processes=2):
    out = {}
    with mp.Pool(processes) as pool:
        for item in items:
            pool.apply_async(
                func,
                (item,),
                callback=lambda r, i=item: out.__setitem__(i, r),
                error_callback=lambda e, i=item: out.__setitem__(i, e),
            )
        pool.close()
        pool.join()
    return out
