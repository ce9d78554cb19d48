"""A worker that extends a list proxy held in the shared dict."""


def add_all(groups, key, values):
    """Add every value to the list stored under key in the shared dict `groups`."""
    groups[key].extend(values)
