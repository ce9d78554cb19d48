def map_reporting_errors(func, items, processes=2):
    out = {}
    for x in items:
        try:
            out[x] = func(x)
        except Exception as e:
            out[x] = e
    return out
