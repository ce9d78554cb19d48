from my_primes import count_below


def count_primes_parallel(limits, processes=2):
    with mp.Pool(processes) as pool:
        return pool.map(count_below, limits)
