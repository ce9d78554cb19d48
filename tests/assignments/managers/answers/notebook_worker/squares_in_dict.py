def store_square(shared, n):
    shared[n] = n * n


def squares_in_dict(numbers):
    with mp.Manager() as manager:
        shared = manager.dict()
        workers = [mp.Process(target=store_square, args=(shared, n)) for n in numbers]
        for p in workers:
            p.start()
        for p in workers:
            p.join()
        return dict(shared)
