"""Refuse notebooks that carry outputs or execution counts (the pre-commit hook, and CI's check).

The course commits notebooks without outputs: diffs stay readable, no learner sees stale results
from another machine, and nbgrader's release is generated from clean sources. This script only
checks, it never rewrites a file; to clear a notebook, run it with ``--clear``::

    python tools/check_clean_notebooks.py notebooks/*.ipynb          # exit 1 if any is dirty
    python tools/check_clean_notebooks.py --clear notebooks/03_pool.ipynb

It reads notebooks as JSON (standard library only), so it runs before the course is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["clear", "main", "problems"]


def problems(notebook: dict) -> list[str]:
    """What keeps ``notebook`` (parsed JSON) from being committed: one line per dirty cell."""
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        what = []
        if cell.get("outputs"):
            what.append(f"{len(cell['outputs'])} output(s)")
        if cell.get("execution_count") is not None:
            what.append(f"execution count {cell['execution_count']}")
        if what:
            first = "".join(cell.get("source", "")).strip().splitlines()[:1]
            label = f" ({first[0][:40]!r})" if first else ""
            found.append(f"cell {index}{label}: {' and '.join(what)}")
    return found


def clear(notebook: dict) -> dict:
    """Return ``notebook`` with every code cell's outputs and execution count removed."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return notebook


def main(argv: Sequence[str] | None = None) -> int:
    """Check (or with ``--clear``, clear) the notebooks named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--clear", action="store_true", help="clear the notebooks in place")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"{path}: cannot read it as a notebook: {exc}")
            status = 1
            continue
        found = problems(notebook)
        if not found:
            continue
        if args.clear:
            text = json.dumps(clear(notebook), sort_keys=True, indent=1, ensure_ascii=False) + "\n"
            path.write_text(text, encoding="utf-8")
            print(f"{path}: cleared {len(found)} cell(s)")
            continue
        status = 1
        print(f"{path}: commit notebooks without outputs or execution counts")
        for line in found:
            print(f"  {line}")
    if status and not args.clear:
        print("Clear them with: python tools/check_clean_notebooks.py --clear <notebook>")
    return status


if __name__ == "__main__":
    sys.exit(main())
