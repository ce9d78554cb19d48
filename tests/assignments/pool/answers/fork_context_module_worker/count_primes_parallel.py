def count_primes_parallel(limits, processes=2):
    with mp.get_context("fork").Pool(processes) as pool:
        return pool.map(workers.count_primes, limits)
