def wait_for_start(start, func, item, results, timeout=10):
    signalled = start.wait(timeout)
    results.put("ready")
    if signalled:
        results.put(func(item))
