def consume(tasks, results, func):
    while True:
        item = tasks.get()
        results.put((item, func(item)))
        if item is None:
            return
