"""Run a notebook top to bottom in a fresh kernel, under a chosen start method (nbclient)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# nbgrader's default per-cell timeout: a lesson cell must finish well within it.
CELL_TIMEOUT = 30


def start_method_cell(method: str, one_cpu: bool = False) -> nbformat.NotebookNode:
    """A first cell that fixes the start method for the whole run, as a learner on that OS has.

    With ``one_cpu`` it also pins the kernel to one CPU (``os.sched_setaffinity``): every process
    the lesson starts inherits that, as on a one-CPU Binder session.
    """
    code = f"import multiprocessing as _mp\n_mp.set_start_method({method!r}, force=True)\ndel _mp"
    if one_cpu:
        code += (
            "\nimport os as _os\n_os.sched_setaffinity(0, {min(_os.sched_getaffinity(0))})\ndel _os"
        )
    return nbformat.v4.new_code_cell(code)


def run_notebook(
    path: Path,
    workdir: Path,
    method: str | None = None,
    timeout: int = CELL_TIMEOUT,
    one_cpu: bool = False,
) -> nbformat.NotebookNode:
    """Execute a copy of ``path`` in ``workdir`` and return the executed notebook.

    Raises ``nbclient.exceptions.CellExecutionError`` on an error in a cell that is not tagged
    ``raises-exception``, and ``CellTimeoutError`` when a cell exceeds ``timeout`` seconds.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    for extra in path.parent.iterdir():  # data files a lesson may read
        if extra.is_file() and extra.suffix not in {".ipynb"}:
            shutil.copy(extra, workdir / extra.name)
    nb = nbformat.read(path, as_version=4)
    if method is not None:
        nb.cells.insert(0, start_method_cell(method, one_cpu))
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    return nb


def stderr_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Texts written to stderr by any cell (warnings, children's tracebacks)."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(out.get("text", ""))
    return found
