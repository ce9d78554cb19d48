def group_values(values_by_key):
    manager = mp.Manager()
    try:
        groups = manager.dict()
        for key in values_by_key:
            groups[key] = manager.list()  # a proxy inside the dict: appends reach the server
        workers = []
        for key, values in values_by_key.items():
            p = mp.Process(target=grouping.add_all, args=(groups, key, values))
            p.start()
            workers.append(p)
        for p in workers:
            p.join(timeout=30)
        return {key: list(groups[key]) for key in values_by_key}
    finally:
        manager.shutdown()
