def consume(tasks, results, func):
    while True:
        item = tasks.get()
        try:
            if item is None:
                return
            results.put((item, func(item)))
        finally:
            if hasattr(tasks, "task_done"):
                tasks.task_done()
