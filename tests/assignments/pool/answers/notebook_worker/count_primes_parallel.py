def count_below(n):
    return workers.count_primes(n)


def count_primes_parallel(limits, processes=2):
    with mp.Pool(processes) as pool:
        return pool.map(count_below, limits)
