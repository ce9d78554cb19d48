def run_with_slot(semaphore, func, item):
    semaphore.acquire()
    result = func(item)
    semaphore.release()
    return result
