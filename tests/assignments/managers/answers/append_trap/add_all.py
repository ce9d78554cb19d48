"""A worker that appends to the list it gets from the shared dict (a copy)."""


def add_all(groups, key, values):
    """Add every value to the list stored under key in the shared dict `groups`."""
    for value in values:
        groups[key].append(value)
