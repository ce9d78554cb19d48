def wait_for_start(start, func, item, results, timeout=10):
    results.put("ready")
    start.wait()
    results.put(func(item))
