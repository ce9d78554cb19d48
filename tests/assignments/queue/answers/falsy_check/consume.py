def consume(tasks, results, func):
    while True:
        item = tasks.get()
        if not item:
            return
        results.put((item, func(item)))
