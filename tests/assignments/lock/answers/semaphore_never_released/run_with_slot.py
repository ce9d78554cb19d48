def run_with_slot(semaphore, func, item):
    semaphore.acquire()
    return func(item)
