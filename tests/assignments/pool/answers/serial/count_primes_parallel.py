def count_primes_parallel(limits, processes=2):
    return [workers.count_primes(n) for n in limits]
