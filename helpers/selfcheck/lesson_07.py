"""Self-checks for the exercises of lesson 07 (managers).

Who imports this: ``notebooks/07_managers.ipynb``, and the course's tests. Each check runs the
learner's function through :func:`helpers.grading.run_bounded` (a forked, time-limited copy of the
kernel), prints ✅ or ❌ lines with what to fix, returns ``True`` or ``False`` and never raises.

- :func:`check_group_by_parity`: ``group_by_parity(ctx, numbers)`` must let pool workers append
  each number to ``shared["even"]`` or ``shared["odd"]`` of a managed dict
  (:func:`helpers.tasks.managed.append_to`) and return a plain dict of plain, sorted lists. The trap:
  plain lists inside a managed dict lose every append.
- :func:`check_count_with_manager_lock`: ``count_with_manager_lock(ctx, workers, steps)`` must
  count to ``workers * steps`` with :func:`helpers.tasks.managed.add_to_counter` in a pool, under a
  ``manager.Lock()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from helpers.grading import BoundedRun
from helpers.selfcheck import report
from helpers.selfcheck.common import (  # the same shared steps as lesson 06's, by design
    counting_starts,
    counting_starts_run,
    fail,
    few_started,
    never_raises,
    pool_left_running,
)

__all__ = ["check_count_with_manager_lock", "check_group_by_parity"]


def _counting_starts(func: Callable[..., Any], *args: Any) -> tuple[Any, int]:
    """:func:`~helpers.selfcheck.common.counting_starts`, with the proxies in the value replaced
    (see :func:`_no_proxies`). A manager's server process counts as one start."""
    value, started = counting_starts(func, *args)
    return _no_proxies(value), started


def _no_proxies(value: Any) -> Any:
    """Replace proxies (in a dict, or alone) by the string ``"<proxy>"``.

    A proxy whose manager has shut down cannot be sent back from the sandbox; the check only
    needs to know that one was returned.
    """
    from multiprocessing.managers import BaseProxy

    if isinstance(value, BaseProxy):
        return "<proxy>"
    if isinstance(value, dict):
        return {k: "<proxy>" if isinstance(v, BaseProxy) else v for k, v in value.items()}
    return value


def _leftovers(run: BoundedRun, name: str) -> list[str]:
    return pool_left_running(
        run,
        name,
        "open the manager and the pool in `with ctx.Manager() as manager:` and "
        "`with ctx.Pool(...) as pool:` blocks.",
    )


@never_raises
def check_group_by_parity(
    func: Callable[..., Any], numbers: Sequence[int] = tuple(range(12))
) -> bool:
    """Run ``func(ctx, numbers)``; expect ``{"even": [...], "odd": [...]}``, sorted and complete."""
    want = {
        "even": sorted(n for n in numbers if n % 2 == 0),
        "odd": sorted(n for n in numbers if n % 2),
    }
    ran = counting_starts_run(
        func,
        list(numbers),
        timeout=90,
        returned_none="group_by_parity returned None: return a plain dict of plain lists.",
        counter=_counting_starts,
    )
    if ran is None:
        return False
    run, value, started = ran
    problems: list[str] = []
    if value == "<proxy>":
        return fail(
            "group_by_parity returned a proxy: return a plain dict of plain lists, built "
            "before the manager shuts down."
        )
    if not isinstance(value, dict) or set(value) != {"even", "odd"}:
        return fail(
            f"group_by_parity returned {value!r:.80}: return a plain dict with the keys "
            "'even' and 'odd', for example {key: sorted(shared[key]) for key in shared.keys()}."
        )
    if not all(isinstance(v, list) for v in value.values()):
        return fail(
            "return plain lists (sorted(proxy) or list(proxy)), not proxies: a proxy is "
            "useless once its manager has shut down."
        )
    if value == {"even": [], "odd": []} and numbers:
        problems.append(
            "both lists are empty: every append was lost. shared[key] hands the worker a COPY "
            "of a plain list, and append changes only that copy. Store a managed list instead: "
            'shared["even"] = manager.list() (and the same for "odd").'
        )
    elif {k: sorted(v) for k, v in value.items()} != want:
        missing = {k: sorted(set(want[k]) - set(value[k])) for k in want}
        problems.append(
            f"the lists are not complete: missing {missing}. Give every number its own task, "
            "with the key that matches its parity, and read the lists after the pool is done."
        )
    elif value != want:
        problems.append("the numbers are all there; sort each list before you return it.")
    problems += few_started(
        started, "run managed.append_to in a ctx.Pool, with proxies from a ctx.Manager()."
    )
    problems += _leftovers(run, "group_by_parity")
    return report(
        problems,
        f"group_by_parity: {len(list(numbers))} appends from the pool, none lost (managed lists "
        "inside a managed dict).",
    )


@never_raises
def check_count_with_manager_lock(
    func: Callable[..., Any], workers: int = 2, steps: int = 30
) -> bool:
    """Run ``func(ctx, workers, steps)``; expect ``workers * steps``, counted by pool workers."""
    expected = workers * steps
    ran = counting_starts_run(
        func,
        workers,
        steps,
        timeout=90,
        returned_none="count_with_manager_lock returned None: return counter['n'].",
        inheritance="a ctx.Lock() cannot travel as a task argument: use manager.Lock(), a "
        "proxy, which can.",
        counter=_counting_starts,
    )
    if ran is None:
        return False
    run, value, started = ran
    problems: list[str] = []
    if value != expected:
        if isinstance(value, int) and value < expected:
            problems.append(
                f"the count is {value}, expected {expected}: {expected - value} updates were "
                "lost. Pass lock=manager.Lock() to managed.add_to_counter, so that each read "
                "and its write happen under one lock that every worker shares."
            )
        else:
            problems.append(f"expected {expected}, got {value!r}: return counter['n'].")
    problems += few_started(
        started,
        "run managed.add_to_counter in a ctx.Pool(workers), with proxies from a ctx.Manager().",
    )
    problems += _leftovers(run, "count_with_manager_lock")
    return report(
        problems,
        f"count_with_manager_lock counted {expected} of {expected}: the manager's lock kept "
        "every read and write together.",
    )
