def run_with_slot(semaphore, func, item):
    semaphore.acquire()
    try:
        result = func(item)
    finally:
        semaphore.release()
    return result
