def results_as_completed(func, items, processes=2):
    done = []
    with mp.Pool(processes) as pool:
        pending = [pool.apply_async(func, (x,), callback=done.append) for x in items]
        for p in pending:
            p.wait(timeout=30)
    return done
