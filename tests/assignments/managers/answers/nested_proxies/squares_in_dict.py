def squares_in_dict(numbers):
    manager = mp.Manager()
    try:
        shared = manager.dict()
        workers = [mp.Process(target=shared_squares.put_square, args=(shared, n)) for n in numbers]
        for p in workers:
            p.start()
        for p in workers:
            p.join(timeout=30)
        return shared.copy()
    finally:
        manager.shutdown()
