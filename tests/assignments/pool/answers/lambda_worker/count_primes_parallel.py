def count_primes_parallel(limits, processes=2):
    with mp.Pool(processes) as pool:
        return pool.map(lambda n: workers.count_primes(n), limits)
