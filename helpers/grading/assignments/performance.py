"""Grading tools for the performance assignment: what ran where, in which chunks.

Who imports this: the performance assignment's setup cell and the course's tests.

A pool's choices are proven from the tasks that ran, never from a clock: run the learner's code
through ``run_bounded(..., trace=["helpers.tasks.workers.square"])`` and pass the run's ``tasks`` to
:func:`chunk_report`. A pool hands its tasks out in chunks: every item of a chunk runs in the
same worker, one after another, and the trace records the chunk of each call.
:func:`chunk_report` groups the calls into their chunks and says whether they have the size the
learner meant to give them.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from helpers.instruments.timeline import TaskRecord

__all__ = ["ChunkReport", "chunk_report", "expected_chunksize"]


def expected_chunksize(n_items: int, workers: int) -> int:
    """About four chunks per worker, at least one item each: what the assignment asks for."""
    return max(1, math.ceil(n_items / (4 * max(1, workers))))


def _item(record: TaskRecord) -> Any:
    try:
        args = ast.literal_eval(str(record.task))
    except (ValueError, SyntaxError):
        return None
    return args[0] if isinstance(args, tuple) and args else None


@dataclass
class ChunkReport:
    """The chunks seen in a trace: ``blocks`` lists, per chunk, its items in the order run."""

    items: list[Any]
    chunksize: int
    blocks: list[list[Any]]
    pids: set[int]
    parent_pid: int

    @property
    def chunk_sizes(self) -> list[int]:
        return [len(b) for b in self.blocks]

    def explain(self) -> str:
        """What to fix, for a learner, or ''."""
        if not self.blocks:
            return (
                "No task ran in a pool: hand the items to pool.map(func, items, chunksize=...) "
                "with the function you were given."
            )
        if self.parent_pid in self.pids:
            return "Some tasks ran in the notebook's own process: hand every item to the pool."
        ran = sorted((x for b in self.blocks for x in b), key=self.items.index)
        if ran != self.items:
            return (
                "The tasks that ran are not the items, each once: call the pool once, on all items."
            )
        wanted = [
            self.items[i : i + self.chunksize] for i in range(0, len(self.items), self.chunksize)
        ]
        if sorted(map(tuple, self.blocks)) == sorted(map(tuple, wanted)):
            return ""
        sizes = sorted(set(self.chunk_sizes))
        return (
            f"The pool ran the {len(self.items)} items in {len(self.blocks)} chunks of "
            f"{', '.join(map(str, sizes))} items; with chunksize={self.chunksize} it would run "
            f"{len(wanted)} chunks of {self.chunksize}. Pass chunksize= to pool.map (without it, "
            "map picks its own)."
        )


def chunk_report(
    tasks: Sequence[TaskRecord], items: Sequence[Any], chunksize: int, parent_pid: int
) -> ChunkReport:
    """The chunks that ``tasks`` (a traced run's records) ran ``items`` in.

    Each traced call knows the chunk the pool ran it in (see :mod:`helpers.grading.trace`); a
    call made outside any chunk (``apply_async``, a plain loop) is a chunk of its own.
    """
    chunks: dict[tuple[Any, ...], list[Any]] = {}
    for n, record in enumerate(sorted(tasks, key=lambda r: r.start)):
        key = (record.pid, *record.result) if record.result else (record.pid, "alone", n)
        chunks.setdefault(key, []).append(_item(record))
    blocks = [
        sorted(b, key=lambda x: items.index(x) if x in items else -1) for b in chunks.values()
    ]
    return ChunkReport(list(items), chunksize, blocks, {r.pid for r in tasks}, parent_pid)
