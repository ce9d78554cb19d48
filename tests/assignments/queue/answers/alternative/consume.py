"""A consumer written with iter(): call tasks.get until it returns the sentinel."""


def consume(tasks, results, func):
    for item in iter(tasks.get, None):
        results.put((item, func(item)))
