"""The course as a website (``make site``): its staging, then every page in a real browser.

Without a browser: ``tools/build_site.py``'s pure parts (the Binder slug read from the README,
the course map, the checks on released notebooks, the local badge, the widget note) and a staging
run into a temporary folder.

In headless Chromium (Debian's, driven by Playwright), with every request that is not for the
local server aborted and recorded: each page of the built site (served on 127.0.0.1) shows no
error output (traceback or stderr, except in cells tagged ``raises-exception``) and no
JavaScript error, loads all its images (a lesson that plots shows its figures), links only to
files and anchors that exist, and needs nothing from the network; each lesson page has its
Binder launch link; each assignment page holds no solution and no hidden test.

The browser tests need a built site: ``MPCOURSE_SITE`` (default ``_build/site``). Without one
they skip with "run `make site` first", unless ``MPCOURSE_REQUIRE_SITE=1`` (``.ci/run``, after
``make site``) makes them fail. Screenshots (the index, a lesson with a figure, an assignment)
go to each test's tmp_path and, if ``MPCOURSE_ARTIFACTS`` names a folder, to its ``site/``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from support.browser_lab import chromium_session, playwright_or_skip, screenshot, unavailable

sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402

LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RELEASED = sorted((ROOT / "release").glob("*/*.ipynb"))
LESSON_PAGES = [f"notebooks/{p.stem}.html" for p in LESSONS]
ASSIGNMENT_PAGES = [p.relative_to(ROOT).with_suffix(".html").as_posix() for p in RELEASED]
PAGES = [
    "index.html",
    *LESSON_PAGES,
    *ASSIGNMENT_PAGES,
    "build-report.html",
    "genindex.html",
    "search.html",
]
REPO, REF = build_site.binder_repo((ROOT / "README.md").read_text())
# Screenshots kept for the report and CI's artifacts: page -> name.
SHOTS = {
    "index.html": "site-index",
    "notebooks/03_pool.html": "site-lesson-03-figure",
    "release/pool/pool.html": "site-assignment-pool",
}
FIGURE_CALLS = re.compile(r"\bplt\.|plot_\w+\(|\.plot\(|imshow\(")


# -- staging, without a browser ----------------------------------------------------------------


def test_the_binder_slug_is_read_from_the_readme_badge():
    readme = (ROOT / "README.md").read_text()
    assert build_site.binder_repo(readme) == (REPO, REF)
    assert f"https://mybinder.org/v2/gh/{REPO}/{REF}?urlpath=" in readme
    url = build_site.binder_url("me/course", "HEAD", "notebooks/01_x.ipynb")
    assert url == "https://mybinder.org/v2/gh/me/course/HEAD?urlpath=lab/tree/notebooks/01_x.ipynb"
    with pytest.raises(ValueError, match="no Binder badge"):
        build_site.binder_repo("# A README without a badge")


def test_the_course_map_links_every_lesson_its_exercise_and_its_binder_launch(tmp_path):
    readme = (
        "| Lesson | Topic | Graded exercise |\n| --- | --- | --- |\n"
        "| 00 | Welcome | |\n| 01 | Processes | `workspace/processes` (01 and 02) |\n\nAfter.\n"
    )
    lessons = []
    for name, title in [("00_welcome", "Check your set-up"), ("01_processes", "Start | stop")]:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}\n\nText")])
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
        lessons.append(tmp_path / f"{name}.ipynb")
    table = build_site.course_map(
        readme, lessons, {"processes": "release/processes/processes.ipynb"}, "me/c", "HEAD"
    )
    rows = table.strip().splitlines()
    assert rows[0].startswith("| Lesson | Topic | Graded exercise |") and len(rows) == 4
    assert "[00: Check your set-up](notebooks/00_welcome.ipynb)" in rows[2]
    assert "[01: Start \\| stop](notebooks/01_processes.ipynb)" in rows[3]
    assert "[processes](release/processes/processes.ipynb) (01 and 02)" in rows[3]
    assert build_site.binder_url("me/c", "HEAD", "notebooks/01_processes.ipynb") in rows[3]
    with pytest.raises(ValueError, match=r"\['02'\] are not in the README"):
        extra = tmp_path / "02_more.ipynb"
        shutil.copy(lessons[0], extra)
        build_site.course_map(readme, [*lessons, extra], {}, "me/c", "HEAD")


def test_the_readme_table_names_every_lesson():
    numbers = [row[0] for row in build_site.lesson_table((ROOT / "README.md").read_text())]
    assert numbers == [p.name[:2] for p in LESSONS]


def test_assignments_follow_the_lessons_that_use_them():
    readme = (
        "| Lesson | Topic | Graded exercise |\n| --- | --- | --- |\n"
        "| 01 | a | `workspace/processes` |\n| 02 | b | `workspace/processes` |\n"
        "| 03 | c | `workspace/pool` |\n"
    )
    order = build_site.assignment_order(readme, ["extra", "pool", "processes", "another"])
    assert order == ["processes", "pool", "another", "extra"]


def test_release_problems_finds_solutions_hidden_tests_and_outputs():
    clean = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()"
            )
        ]
    )
    assert build_site.release_problems(clean) == []
    leaky = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
            nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS"),
            nbformat.v4.new_code_cell(
                "1", outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "1"})]
            ),
        ]
    )
    problems = build_site.release_problems(leaky)
    assert problems == [
        "cell 0 holds 'BEGIN SOLUTION'",
        "cell 0 holds 'END SOLUTION'",
        "cell 1 holds 'BEGIN HIDDEN TESTS'",
        "cell 1 holds 'END HIDDEN TESTS'",
        "cell 2 has outputs",
    ]


def test_badges_point_at_the_local_copy_and_widget_views_become_notes():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"[![Binder]({build_site.BINDER_BADGE})](https://x)")]
    )
    assert build_site.localise_badges(nb, depth=1) == 1
    assert nb.cells[0].source == "[![Binder](../_static/binder-badge.svg)](https://x)"
    page = (
        '<div><script type="application/vnd.jupyter.widget-view+json">\n'
        '{"model_id": "abc", "version_major": 2}\n</script></div>'
    )
    text, n = build_site.replace_widget_views(page)
    assert n == 1 and "script" not in text and "needs a running" in text


def test_staging_copies_lessons_and_released_assignments_never_source(tmp_path):
    dest = tmp_path / "src"
    pages = build_site.stage(dest)
    assert pages["lessons"] == [f"notebooks/{p.name}" for p in LESSONS]
    assert pages["assignments"] == sorted(p.relative_to(ROOT).as_posix() for p in RELEASED)
    assert not (dest / "source").exists()
    assert (dest / "conf.py").exists() and (dest / "_static" / "binder-badge.svg").exists()
    assert json.loads((dest / "_course.json").read_text()) == {"repo": REPO, "ref": REF}
    for rel in pages["assignments"]:
        assert build_site.release_problems(nbformat.read(dest / rel, as_version=4)) == []
    staged = "".join(p.read_text() for p in (dest / "notebooks").glob("*.ipynb"))
    assert build_site.BINDER_BADGE not in staged, "a badge image would be loaded from the network"
    index = (dest / "index.md").read_text()
    assert build_site.MAP_MARKER not in index
    for rel in pages["lessons"]:
        assert f"]({rel})" in index and build_site.binder_url(REPO, REF, rel) in index
    assert build_site.TOC_MARKER not in index
    for rel in pages["assignments"]:
        assert f"\n{rel}\n" in index, f"{rel} is not in the table of contents"
    reference = ROOT / "notebooks" / "reference"
    if reference.is_dir():  # lessons read their reference figures from there
        assert sorted(p.name for p in (dest / "notebooks" / "reference").iterdir()) == sorted(
            p.name for p in reference.iterdir() if p.name != "__pycache__"
        )


def test_staging_and_building_delete_only_folders_they_made(tmp_path):
    mine = tmp_path / "staged"
    build_site.stage(mine)
    build_site.stage(mine)  # again: the old staging is replaced
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not deleting it"):
        build_site.stage(theirs)
    with pytest.raises(ValueError, match="not deleting it"):
        build_site.build(mine, theirs, tmp_path / "work")
    assert (theirs / "notes.txt").read_text() == "keep me"


def test_staging_refuses_a_released_notebook_with_a_solution(tmp_path):
    fake = tmp_path / "repo"
    for name in ["site", "notebooks"]:
        shutil.copytree(ROOT / name, fake / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", fake / "README.md")
    (fake / "release" / "pool").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1")])
    nbformat.write(nb, fake / "release" / "pool" / "pool.ipynb")
    with pytest.raises(ValueError, match=r"release/pool/pool.ipynb: cell 0 holds 'BEGIN SOLUTION'"):
        build_site.stage(tmp_path / "out", root=fake)


# -- the built site in a browser ---------------------------------------------------------------


@pytest.fixture(scope="session")
def site_dir() -> Path:
    site = Path(os.environ.get("MPCOURSE_SITE", ROOT / "_build" / "site"))
    if not (site / "index.html").exists():
        unavailable(f"no built site in {site}: run `make site` first", "MPCOURSE_REQUIRE_SITE")
    return site


@pytest.fixture(scope="session")
def site_url(site_dir):
    """The site served by Python's http.server on 127.0.0.1 (a free port), in a thread."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="session")
def site_browser(site_dir):
    with chromium_session(playwright_or_skip()) as chromium:
        yield chromium


@functools.cache
def ids_in(path: Path) -> frozenset[str]:
    return frozenset(re.findall(r'\bid="([^"]+)"', path.read_text(errors="replace")))


def local_target(site: Path, url: str, base: str) -> tuple[Path, str]:
    """The file (and anchor) on disk that a link to ``url`` on the local server opens."""
    parts = urllib.parse.urlsplit(url)
    rel = urllib.parse.unquote(parts.path)[len(urllib.parse.urlsplit(base).path) :]
    target = site / rel
    if rel == "" or rel.endswith("/"):
        target = target / "index.html"
    return target, urllib.parse.unquote(parts.fragment)


def plain(text: str) -> str:
    """Text with Markdown's backticks and emphasis removed and runs of white space made one."""
    return re.sub(r"[`*\s]+", " ", text)


def source_solutions(assignment: str) -> list[str]:
    """Lines of the instructor's solutions and hidden tests that the released notebook lacks."""
    released = plain(
        "\n".join(
            c.source
            for p in (ROOT / "release" / assignment).glob("*.ipynb")
            for c in nbformat.read(p, as_version=4).cells
        )
    )
    secret = []
    for p in (ROOT / "source" / assignment).glob("*.ipynb"):
        for cell in nbformat.read(p, as_version=4).cells:
            inside = False
            for line in cell.source.splitlines():
                if re.search(r"BEGIN (SOLUTION|HIDDEN TESTS)", line):
                    inside = True
                elif re.search(r"END (SOLUTION|HIDDEN TESTS)", line):
                    inside = False
                elif inside and len(line.strip()) >= 20 and plain(line.strip()) not in released:
                    secret.append(line.strip())
    return secret


def test_every_page_of_the_site_is_tested(site_dir):
    built = sorted(
        p.relative_to(site_dir).as_posix()
        for p in site_dir.rglob("*.html")
        if not p.relative_to(site_dir).parts[0].startswith("_")
    )
    assert built == sorted(PAGES), (
        "the site's pages are not the course's lessons and assignments: rebuild it (make site), "
        "or, if the site gained a kind of page, add it to PAGES in this test"
    )


@pytest.mark.browser
@pytest.mark.xdist_group("site")
@pytest.mark.parametrize("rel", PAGES)
def test_page_renders_offline_without_errors(site_dir, site_url, site_browser, tmp_path, rel):
    context = site_browser.new_context(viewport={"width": 1400, "height": 900})
    blocked: list[str] = []

    def only_local(route, request):
        if request.url.startswith(site_url) or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and js_errors.append(msg.text))
    try:
        response = page.goto(site_url + rel, wait_until="load")
        assert response is not None and response.ok, f"{rel}: HTTP {response and response.status}"
        page.wait_for_load_state("networkidle")

        # No error output, except in the cells that show an exception on purpose.
        errors = page.evaluate(
            """() => [...document.querySelectorAll('.output.traceback, .output.stderr')]
                   .filter(o => !o.closest('.tag_raises-exception'))
                   .map(o => o.innerText.slice(0, 300))"""
        )
        assert not errors, f"{rel} shows error output: {errors}"
        text = page.inner_text("body")
        # (A traceback a lesson prints on purpose, e.g. a child's, is output, not an error.)
        outputs = "\n".join(page.locator(".cell_output").all_inner_texts())
        assert "[FIX]" not in outputs, f"{rel}: the doctor found a problem on the build machine"
        assert not js_errors, f"{rel}: JavaScript errors: {js_errors}"

        # Every image loaded (lazy ones too, hidden ones such as the dark-mode logo too).
        page.evaluate("() => document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        broken = page.evaluate(
            "() => [...document.images].filter(i => !(i.naturalWidth > 0)).map(i => i.src)"
        )
        assert not broken, f"{rel}: images that did not load: {broken}"

        # Internal links resolve to a file and, if they name one, an anchor in it.
        hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
        dead = []
        for href in hrefs:
            if not href.startswith(site_url):
                continue
            target, anchor = local_target(site_dir, href, site_url)
            if not target.is_file():
                dead.append(href)
            elif anchor and target.suffix == ".html" and anchor not in ids_in(target):
                dead.append(href)
        assert not dead, f"{rel}: links to nothing: {dead}"
        others = {h for h in hrefs if not h.startswith((site_url, "https://", "mailto:"))}
        assert not others, f"{rel}: unexpected links {others}"

        if rel in LESSON_PAGES:
            lesson = LESSONS[LESSON_PAGES.index(rel)]
            launch = build_site.binder_url(REPO, REF, f"notebooks/{lesson.name}")
            assert launch in hrefs, f"{rel}: no link that launches {lesson.name} on Binder"
            code = "\n".join(
                c.source for c in nbformat.read(lesson, as_version=4).cells if c.cell_type == "code"
            )
            if FIGURE_CALLS.search(code):
                figures = page.locator(".cell_output img")
                assert figures.count() > 0, f"{rel}: the lesson plots, but the page has no figure"
                assert figures.first.evaluate("i => i.naturalWidth") > 100
            assert "What you'll learn" in text and "Key points" in text

        if rel in ASSIGNMENT_PAGES:
            assignment = rel.split("/")[1]
            for marker in build_site.FORBIDDEN:
                assert marker not in text, f"{rel} shows {marker!r}"
            secret = source_solutions(assignment)
            assert secret, f"source/{assignment} has no solution lines to look for"
            leaked = [line for line in secret if plain(line) in plain(text)]
            assert not leaked, f"{rel} shows lines of the solution or hidden tests: {leaked}"
            assert "raise NotImplementedError()" in text, f"{rel}: the stubs are missing"
            launch = build_site.binder_url(REPO, REF, rel.replace(".html", ".ipynb"))
            assert launch in hrefs, f"{rel}: no Binder launch"

        if rel == "build-report.html":  # every lesson ran, and succeeded
            rows = page.locator("table tbody tr").all_inner_texts()
            ran = {row.split()[0] for row in rows if row.strip()}
            assert ran == {f"notebooks/{p.stem}" for p in LESSONS}, rows
            assert all("✅" in row for row in rows), rows

        if rel == "index.html":
            for lesson_page in LESSON_PAGES:
                assert site_url + lesson_page in hrefs, f"the course map lacks {lesson_page}"

        if rel in SHOTS:
            if rel in LESSON_PAGES:
                page.locator(".cell_output img").first.scroll_into_view_if_needed()
                page.mouse.wheel(0, -250)
                page.wait_for_timeout(300)
            else:
                page.evaluate("window.scrollTo(0, 0)")
            screenshot(page, tmp_path, SHOTS[rel], folder="site")
        assert not blocked, f"{rel} asked the network for {blocked}: the site must work offline"
    finally:
        context.close()
