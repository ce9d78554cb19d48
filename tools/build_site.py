"""Build the course as a static website (``make site``): stage the sources, then run Sphinx.

The site is built with Sphinx, myst-nb and sphinx-book-theme (Jupyter Book 1's engine, all from
PyPI), entirely offline: nothing is downloaded at build time and the pages load nothing from
another host (no MathJax, require.js, widget or font CDN; math is turned into MathML at build
time by ``site/_ext/mathml.py``).

Staging copies into one source folder (default ``_build/site-src``):

- ``site/`` (``conf.py``, ``index.md``, static files), with the course map written into
  ``index.md`` from the README's lesson table (the README stays the one place it is written);
- the lessons, ``notebooks/NN_*.ipynb``, and their reference figures, ``notebooks/reference/``:
  myst-nb executes the lessons during the build;
- the released assignments, ``release/<a>/*.ipynb`` (never ``source/``), shown unexecuted; the
  build stops if one still holds a solution or hidden tests.

The Binder repository (``owner/name``) is read from the README's Binder badge, and only there:
the lesson pages' launch buttons and the course map's links are built from it. Each lesson's own
badge image (hosted by mybinder.org) is replaced by a local copy, so that the page loads nothing
from the network::

    python tools/build_site.py                  # stage into _build/site-src, build _build/site
    python tools/build_site.py --stage-only     # stage only (to look at what Sphinx reads)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

__all__ = [
    "BINDER_BADGE",
    "assignment_order",
    "binder_repo",
    "binder_url",
    "build",
    "course_map",
    "lesson_table",
    "localise_badges",
    "main",
    "release_problems",
    "replace_widget_views",
    "stage",
]

ROOT = Path(__file__).resolve().parent.parent
BINDER = re.compile(
    r"https://mybinder\.org/v2/gh/(?P<repo>[\w.-]+/[\w.-]+)/(?P<ref>[\w.-]+)"
    r"\?urlpath=(?P<urlpath>[^)\s\"']+)"
)
# The badge image every lesson's first cell shows, hosted by mybinder.org, and its local copy.
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
LOCAL_BADGE = "_static/binder-badge.svg"
MAP_MARKER = "<!-- course map: written by tools/build_site.py -->"
TOC_MARKER = "<!-- assignments: written by tools/build_site.py, in the order of the lessons -->"
# What nbgrader's release must have removed from a learner's notebook.
FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def binder_repo(readme: str) -> tuple[str, str]:
    """The ``(owner/name, ref)`` of the README's first Binder badge: the one place it is written."""
    m = BINDER.search(readme)
    if m is None:
        raise ValueError("the README has no Binder badge (https://mybinder.org/v2/gh/OWNER/REPO/)")
    return m.group("repo"), m.group("ref")


def binder_url(repo: str, ref: str, path: str) -> str:
    """The Binder link that opens ``path`` (relative to the repository root) in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{repo}/{ref}?urlpath=lab/tree/{path}"


def lesson_table(readme: str) -> list[list[str]]:
    """The rows (cells as text) of the README's lesson table, the one under ``| Lesson |``."""
    rows: list[list[str]] = []
    inside = False
    for line in readme.splitlines():
        if line.startswith("| Lesson |"):
            inside = True
            continue
        if inside:
            if not line.startswith("|"):
                break
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):  # the | --- | line
                rows.append(cells)
    return rows


def _title(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if m:
                return m.group(1).strip()
    return notebook.stem


def course_map(
    readme: str, lessons: Sequence[Path], assignments: dict[str, str], repo: str, ref: str
) -> str:
    """The course map as a MyST table: each README row with links to the lesson's page, its
    graded exercise's page and its Binder launch.

    ``lessons`` are the lesson notebooks (``notebooks/NN_*.ipynb``); ``assignments`` maps an
    assignment name to its page (``release/<a>/<a>.ipynb``).
    """
    by_number = {p.name[:2]: p for p in lessons}
    lines = [
        "| Lesson | Topic | Graded exercise | Run it |",
        "| --- | --- | --- | --- |",
    ]
    for cells in lesson_table(readme):
        number, topic, graded = (cells + ["", "", ""])[:3]
        lesson = by_number.get(number)
        if lesson is None:
            continue
        page = f"notebooks/{lesson.name}"
        title = _title(lesson).replace("|", "\\|")

        def link(m: re.Match[str]) -> str:
            name = m.group(1)
            return f"[{name}]({assignments[name]})" if name in assignments else m.group(0)

        graded = re.sub(r"`workspace/(\w+)`", link, graded)
        launch = f"[launch on Binder]({binder_url(repo, ref, page)})"
        lines.append(f"| [{number}: {title}]({page}) | {topic} | {graded} | {launch} |")
    missing = sorted(set(by_number) - {c[0] for c in lesson_table(readme)})
    if missing:
        raise ValueError(f"lessons {missing} are not in the README's lesson table")
    return "\n".join(lines) + "\n"


def assignment_order(readme: str, assignments: Sequence[str]) -> list[str]:
    """``assignments`` in the order of the lessons that use them (the README's table), then any
    other in alphabetical order."""
    named = re.findall(
        r"`workspace/(\w+)`", "\n".join(r[2] for r in lesson_table(readme) if len(r) > 2)
    )
    first = list(dict.fromkeys(a for a in named if a in assignments))
    return first + sorted(set(assignments) - set(first))


def release_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What a released notebook must not hold (solutions, hidden tests); [] when it is clean."""
    problems = []
    for i, cell in enumerate(nb.cells):
        for marker in FORBIDDEN:
            if marker in cell.source:
                problems.append(f"cell {i} holds {marker!r}")
        if cell.get("outputs"):
            problems.append(f"cell {i} has outputs")
    return problems


def localise_badges(nb: nbformat.NotebookNode, depth: int) -> int:
    """Point the mybinder.org badge images of ``nb`` at the site's local copy; return how many.

    ``depth`` is how many folders below the site's root the notebook sits (1 for
    ``notebooks/``), so that the relative path reaches ``_static/``.
    """
    local = "../" * depth + LOCAL_BADGE
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown" and BINDER_BADGE in cell.source:
            count += cell.source.count(BINDER_BADGE)
            cell.source = cell.source.replace(BINDER_BADGE, local)
    return count


def _remove_generated(folder: Path, mark: str) -> None:
    """Delete ``folder`` if this script made it (it holds ``mark``); refuse any other folder."""
    if not folder.exists():
        return
    if not (folder / mark).exists() and any(folder.iterdir()):
        raise ValueError(f"{folder} is not empty and was not made by this script: not deleting it")
    shutil.rmtree(folder)


def stage(dest: Path, root: Path = ROOT) -> dict[str, list[str]]:
    """Copy what the site is built from into ``dest`` (emptied first); return the staged pages."""
    _remove_generated(dest, "_course.json")
    shutil.copytree(root / "site", dest, ignore=shutil.ignore_patterns("__pycache__"))
    readme = (root / "README.md").read_text()
    repo, ref = binder_repo(readme)

    lessons = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    (dest / "notebooks").mkdir()
    for lesson in lessons:
        nb = nbformat.read(lesson, as_version=4)
        localise_badges(nb, depth=1)
        nbformat.write(nb, dest / "notebooks" / lesson.name)
    if (root / "notebooks" / "reference").is_dir():
        shutil.copytree(root / "notebooks" / "reference", dest / "notebooks" / "reference")

    assignments: dict[str, str] = {}
    problems = []
    for notebook in sorted((root / "release").glob("*/*.ipynb")):
        nb = nbformat.read(notebook, as_version=4)
        rel = notebook.relative_to(root).as_posix()
        problems += [f"{rel}: {p}" for p in release_problems(nb)]
        (dest / notebook.parent.relative_to(root)).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest / rel)
        assignments.setdefault(notebook.parent.name, rel)
    if problems:
        raise ValueError("released notebooks are not fit to publish:\n" + "\n".join(problems))

    index = dest / "index.md"
    text = index.read_text()
    for marker in (MAP_MARKER, TOC_MARKER):
        if marker not in text:
            raise ValueError(f"site/index.md lacks the line {marker}")
    table = course_map(readme, lessons, assignments, repo, ref)
    toc = "\n".join(assignments[a] for a in assignment_order(readme, list(assignments)))
    index.write_text(text.replace(MAP_MARKER, table).replace(TOC_MARKER, toc))
    (dest / "_course.json").write_text(json.dumps({"repo": repo, "ref": ref}))
    return {
        "lessons": [f"notebooks/{p.name}" for p in lessons],
        "assignments": sorted(p for p in assignments.values()),
    }


WIDGET_VIEW = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-view\+json">.*?</script>', re.DOTALL
)
WIDGET_NOTE = (
    '<p class="mpcourse-widget-note"><strong>Interactive widget.</strong> It needs a running '
    "Python kernel, which a web page does not have: launch this lesson on Binder (the rocket "
    "button above) or run it in JupyterLab to use it.</p>"
)


def replace_widget_views(page: str) -> tuple[str, int]:
    """Replace each ipywidgets view (which would need the widget JavaScript from a CDN and a live
    kernel) by a short note; return the new page and how many were replaced."""
    return WIDGET_VIEW.subn(WIDGET_NOTE, page)


def build(src: Path, out: Path, work: Path) -> None:
    """Run Sphinx on the staged ``src`` into ``out`` (emptied first; doctrees in ``work``),
    failing on any warning; then replace widget views by notes."""
    _remove_generated(out, ".buildinfo")  # no page left from a lesson that is gone
    _remove_generated(work, "doctrees")
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-W",
        "--keep-going",
        "-q",
        "-d",
        str(work / "doctrees"),
        str(src),
        str(out),
    ]
    subprocess.run(cmd, check=True)
    for page in out.rglob("*.html"):
        text, n = replace_widget_views(page.read_text())
        if n:
            page.write_text(text)
    (out / ".nojekyll").touch()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "site")
    parser.add_argument("--stage", type=Path, default=ROOT / "_build" / "site-src")
    parser.add_argument("--stage-only", action="store_true")
    args = parser.parse_args(argv)
    pages = stage(args.stage)
    print(
        f"staged {len(pages['lessons'])} lessons and {len(pages['assignments'])} assignments "
        f"in {args.stage}"
    )
    if args.stage_only:
        return 0
    build(args.stage, args.out, args.stage.parent / "site-work")
    print(f"site written to {args.out} (open {args.out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
