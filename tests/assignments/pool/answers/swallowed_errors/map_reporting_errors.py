def map_reporting_errors(func, items, processes=2):
    out = {}
    with mp.Pool(processes) as pool:
        pending = {x: pool.apply_async(func, (x,)) for x in items}
        for x, r in pending.items():
            try:
                out[x] = r.get(timeout=30)
            except Exception:
                out[x] = None
    return out
