def squares_in_dict(numbers):
    shared = {}
    workers = [mp.Process(target=shared_squares.put_square, args=(shared, n)) for n in numbers]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    return shared
