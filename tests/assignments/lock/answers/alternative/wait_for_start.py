def wait_for_start(start, func, item, results, timeout=10):
    results.put("ready")
    if not start.wait(timeout=timeout):
        return
    value = func(item)
    results.put(value)
