from helpers.tasks.workers import is_prime


def count_below(n):
    return sum(1 for k in range(n) if is_prime(k))
