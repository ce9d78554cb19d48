def run_with_slot(semaphore, func, item):
    return func(item)
