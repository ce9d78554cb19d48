def square_here(results, x):
    results.put(x * x)


def square_in_child(x):
    results = mp.Queue()
    p = mp.Process(target=square_here, args=(results, x))
    p.start()
    value = results.get(timeout=5)
    p.join()
    return value
