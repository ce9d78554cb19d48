def run_pipeline(func, items, n_consumers=2):
    return {item: func(item) for item in items}
