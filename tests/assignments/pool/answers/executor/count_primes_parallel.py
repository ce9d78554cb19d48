from concurrent.futures import ProcessPoolExecutor

from helpers.tasks.workers import count_primes


def count_primes_parallel(limits, processes=2):
    with ProcessPoolExecutor(processes) as ex:
        return list(ex.map(count_primes, limits))
