"""Additions to a shared counter: the Value is its own context manager."""


def add_many(counter, times):
    """Add 1 to counter.value, `times` times, each under the counter's own lock."""
    for _ in range(times):
        with counter:
            counter.value = counter.value + 1
