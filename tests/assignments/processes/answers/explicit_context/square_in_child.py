def square_in_child(x):
    ctx = mp.get_context()
    results = ctx.SimpleQueue()
    child = ctx.Process(target=squares.square_into, args=(results, x))
    child.start()
    try:
        return results.get()
    finally:
        child.join(timeout=30)
