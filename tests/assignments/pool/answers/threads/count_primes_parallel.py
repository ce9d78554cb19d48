from multiprocessing.pool import ThreadPool


def count_primes_parallel(limits, processes=2):
    with ThreadPool(processes) as pool:
        return pool.map(workers.count_primes, limits)
