def consume(tasks, results, func):
    while not tasks.empty():
        item = tasks.get()
        if item is None:
            return
        results.put((item, func(item)))
