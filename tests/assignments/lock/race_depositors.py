"""Deposit functions for tests/test_assignment_lock_extra.py: the race behind exercise 1.

Not a submission: the race test copies this module under a unique name to a folder on sys.path,
so that the race's child processes can import it.
"""


def unlocked(balance, lock, amount, times):
    for _ in range(times):
        balance.value += amount


def locked(balance, lock, amount, times):
    for _ in range(times):
        with lock:
            balance.value += amount


def whole_loop(balance, lock, amount, times):
    with lock:
        for _ in range(times):
            balance.value += amount
