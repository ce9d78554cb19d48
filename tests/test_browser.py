"""The learner's journey in a real browser: JupyterLab in headless Chromium, driven by Playwright.

One JupyterLab server (the venv's, with the project's configuration) serves a temporary copy of
the course to all these tests, as a first-time learner would meet it. The tests:

- open lesson 00, Run All, and see a live ipywidgets widget (not its text fallback) that talks to
  the kernel, and a matplotlib figure;
- press Validate on every released notebook: blank, it names the failing cell; with the reference
  answer typed in, it reports success;
- open nbgrader's Assignment List and Course List: no error, though there is no shared exchange;
- show lesson 09's performance explorer, move a slider, press Run and see the plot change;
- check that nothing pops up to ask the learner anything (the Jupyter news toast).

Screenshots are saved under each test's tmp_path (paths printed; run with -s to see them) and,
if MPCOURSE_ARTIFACTS names a folder, copied to its browser/ subfolder.
Debian's Chromium is required (``apt-get install chromium``); without it the tests skip, unless
MPCOURSE_REQUIRE_BROWSER=1 (set by .ci/run) makes them fail.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import new_tag
from support.browser_lab import (
    ACTIVE_NOTEBOOK,
    ROOT,
    LabServer,
    chromium_session,
    copy_course,
    open_in_lab,
    playwright_or_skip,
    run_all,
    screenshot,
    serving,
    snapshot,
)
from support.nbgrader_harness import Course

# One JupyterLab and one browser for all these tests: under `pytest -n 3 --dist loadgroup`
# (make test) the group keeps them on the same worker.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LESSON_00 = "notebooks/00_welcome.ipynb"
RELEASED = sorted(
    p.relative_to(ROOT / "release").as_posix() for p in (ROOT / "release").glob("*/*.ipynb")
)
COURSE_ID = "multiprocessing-course"
DIALOG = ".jp-Dialog:has(.jp-Dialog-header:has-text('Validation'))"


# -- fixtures ----------------------------------------------------------------------------------


# Session scope, not module: under xdist a worker may run other modules' tests between these,
# and a module fixture would then stop and restart JupyterLab and the browser each time.
@pytest.fixture(scope="session")
def playwright_api():
    return playwright_or_skip()


@pytest.fixture(scope="session")
def lab(playwright_api, tmp_path_factory):
    """JupyterLab serving a temporary copy of the course; stopped with no process left behind."""
    opened = [LESSON_00] + [f"release/{nb}" for nb in RELEASED]
    repo_before = snapshot(opened)
    base = tmp_path_factory.mktemp("lab")
    tag = new_tag("browser")  # inherited by the server, its kernels and their workers
    with serving(copy_course(base / "course"), base / "home", tag) as server:
        yield server
    after = snapshot(opened)
    changed = sorted(k for k in after if after[k] != repo_before.get(k))
    assert not changed, (
        f"{changed} changed in the repository while the browser tests ran: JupyterLab must only "
        "touch its temporary copy (or someone edited these files meanwhile)"
    )


@pytest.fixture(scope="session")
def browser(playwright_api, lab):
    with chromium_session(playwright_api) as chromium:
        yield chromium


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)  # a loaded 2-core machine is slow
    yield page
    context.close()
    lab.remember_descendants()
    for kernel in lab.api("api/kernels"):  # one kernel at a time on a small machine
        lab.api(f"api/kernels/{kernel['id']}", method="DELETE")


# -- helpers -----------------------------------------------------------------------------------


def toasts(page) -> list[str]:
    return [t.strip() for t in page.locator(".Toastify__toast").all_inner_texts()]


def assert_nothing_asks_the_learner(page) -> None:
    shown = toasts(page)
    assert not shown, f"a notification pops up for the learner: {shown}"


def validate(page, tmp_path: Path, name: str) -> str:
    """Press Validate in the notebook toolbar and return the text of nbgrader's result dialog."""
    page.locator(f"{ACTIVE_NOTEBOOK} .validate-button").click()
    dialog = page.locator(DIALOG)
    dialog.wait_for(timeout=180_000)
    text = dialog.inner_text()
    screenshot(page, tmp_path, name)
    dialog.locator("button:has-text('Ok')").click()
    dialog.wait_for(state="detached")
    return text


def restore_release(lab: LabServer, notebook: str) -> Path:
    """Put the pristine released notebook back in the served copy (another test may have edited it)."""
    target = lab.root / "release" / notebook
    shutil.copy(ROOT / "release" / notebook, target)
    return target


# -- the learner's first launch ----------------------------------------------------------------


def test_first_launch_asks_the_learner_nothing(lab, page, tmp_path):
    """The course's Lab settings (helpers.setup.labsetup) are in force, and no toast appears."""
    schema = lab.api("lab/api/settings/@jupyterlab/apputils-extension:notification")["schema"]
    defaults = {k: v.get("default") for k, v in schema["properties"].items()}
    assert defaults["fetchNews"] == "false", (
        "JupyterLab would ask about Jupyter news: run `python -m helpers.setup.labsetup` (make install)"
    )
    assert defaults["checkForUpdates"] is False
    open_in_lab(page, lab)
    page.wait_for_selector(".jp-DirListing-item")  # the file browser shows the course
    page.wait_for_timeout(4000)  # the news question comes a moment after start-up, if at all
    screenshot(page, tmp_path, "first-launch")
    assert_nothing_asks_the_learner(page)


def test_lesson_00_runs_with_a_live_widget_and_a_figure(lab, page, tmp_path):
    assert (lab.root / LESSON_00).exists(), f"{LESSON_00} is missing"
    code_cells = sum(c.cell_type == "code" for c in nbformat.read(lab.root / LESSON_00, 4).cells)
    open_in_lab(page, lab, LESSON_00)
    nb = page.locator(f"{ACTIVE_NOTEBOOK} .jp-Notebook")
    assert nb.locator(".jp-CodeCell").count() == code_cells, "every cell is in the page"
    run_all(page)
    outputs = nb.locator(".jp-OutputArea-output")
    # A rendered widget, not its text fallback such as "Button(description=...)".
    widget = outputs.locator(".jupyter-widgets").first
    widget.wait_for(state="visible")
    figure = outputs.locator("img").first
    figure.wait_for(state="visible")
    assert figure.evaluate("img => img.naturalWidth") > 100, "the figure did not load"
    figure.scroll_into_view_if_needed()
    screenshot(page, tmp_path, "lesson-00-figure")
    text = "\n".join(outputs.all_inner_texts())
    assert "Error displaying widget" not in text
    assert not re.search(r"^\w+\((description|value)=", text, re.MULTILINE), (
        "a widget was shown as text: the widget extension is not working"
    )
    assert "[FIX]" not in text, f"the doctor found a problem in Lab's kernel:\n{text}"
    assert outputs.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0, (
        "a cell wrote to stderr or raised"
    )
    # The widget is live: a click goes to the kernel and the answer comes back into the page.
    button = outputs.locator(".jupyter-widgets button").first
    if button.count():
        widget_out = outputs.locator(".jupyter-widgets.widget-output, .widget-output")
        before = "\n".join(widget_out.all_inner_texts())
        button.scroll_into_view_if_needed()
        button.click()
        page.wait_for_function(
            """([sel, before]) => [...document.querySelectorAll(sel)]
                   .map(e => e.innerText).join('\\n').trim() !== before.trim()""",
            arg=[f"{ACTIVE_NOTEBOOK} .widget-output", before],
            timeout=60_000,
        )
        screenshot(page, tmp_path, "lesson-00-widget-clicked")
    else:
        screenshot(page, tmp_path, "lesson-00-widget")
    assert_nothing_asks_the_learner(page)


# -- Validate ----------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", RELEASED)
def test_validate_names_the_failing_cell_of_the_blank_notebook(lab, page, tmp_path, notebook):
    restore_release(lab, notebook)
    open_in_lab(page, lab, f"release/{notebook}")
    text = validate(page, tmp_path, "validate-blank")
    assert "The following cell failed:" in text, text
    assert "Success!" not in text
    assert_nothing_asks_the_learner(page)


@pytest.mark.parametrize("notebook", RELEASED)
def test_validate_passes_the_reference_answer_typed_in(lab, page, tmp_path, notebook):
    assignment, name = notebook.split("/")
    stem = Path(name).stem
    answers = Course(lab.root).reference_answers(assignment, stem)
    path = restore_release(lab, notebook)
    released = nbformat.read(path, as_version=4)
    slots = [
        (i, c.metadata["nbgrader"]["grade_id"])
        for i, c in enumerate(released.cells)
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]
    assert slots and {g for _, g in slots} == set(answers)

    open_in_lab(page, lab, f"release/{notebook}")
    cells = page.locator(f"{ACTIVE_NOTEBOOK} .jp-Notebook .jp-Cell")
    assert cells.count() == len(released.cells)
    for index, grade_id in slots:  # type the answer as a learner would (paste over the stub)
        editor = cells.nth(index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(answers[grade_id])
        page.keyboard.press("Escape")
    screenshot(page, tmp_path, "answers-typed")
    text = validate(page, tmp_path, "validate-reference")
    assert "Success! Your notebook passes all the tests." in text, text
    saved = nbformat.read(path, as_version=4)  # Validate saved what was typed, then graded it
    assert [saved.cells[i].source for i, _ in slots] == [answers[g] for _, g in slots]
    assert_nothing_asks_the_learner(page)


# -- nbgrader's lists, with no shared exchange ---------------------------------------------------


def test_assignment_list_and_course_list_show_no_error(lab, page, tmp_path):
    assert lab.api(f"assignments?course_id={COURSE_ID}")["success"] is True
    assert lab.api("courses")["success"] is True
    formgraders = lab.api("formgraders")
    assert formgraders["success"] is True
    assert [(c["course_id"], c["kind"]) for c in formgraders["value"]] == [(COURSE_ID, "local")]
    assert lab.api("formgrader/api/status") == {"status": True}, "formgrader is for instructors"
    assert (lab.home / "data" / "nbgrader_exchange").is_dir(), "the learner's private exchange"

    open_in_lab(page, lab)
    page.click("#jp-MainMenu >> text=Nbgrader")
    page.click("li.lm-Menu-item:has-text('Assignment List')")
    panel = page.locator("#nbgrader-assignment-list")
    panel.locator("text=There are no assignments to fetch").wait_for(state="visible")
    page.wait_for_timeout(500)
    screenshot(page, tmp_path, "assignment-list")
    text = panel.inner_text()
    assert "does not exist" not in text and "Error" not in text, text
    for section in ["released", "fetched", "submitted"]:
        assert not panel.locator(f"#{section}_assignments_list_error").is_visible()

    page.click("#jp-MainMenu >> text=Nbgrader")
    page.click("li.lm-Menu-item:has-text('Course List')")
    courses = page.locator("#nbgrader-course-list")
    courses.locator(f"text={COURSE_ID}").wait_for(state="visible")
    screenshot(page, tmp_path, "course-list")
    assert "Error" not in courses.inner_text()
    assert_nothing_asks_the_learner(page)


# -- lesson 09's performance explorer ------------------------------------------------------------

EXPLORER = """from helpers.instruments.explorer import Settings, explore

explorer = explore(Settings(workers=1, limit=2_000, tasks=8, repeats=1))"""


def test_explorer_moves_a_slider_runs_and_updates_the_plot(lab, page, tmp_path):
    """A notebook shows lesson 09's explorer with a tiny workload. Move the ``workers`` slider
    with the keyboard, as a learner can, press Run: the speedup plot's image is replaced, the
    points counter goes up, the explanation appears, and nothing is written to stderr."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(EXPLORER)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, lab.root / "explorer.ipynb")
    open_in_lab(page, lab, "explorer.ipynb")
    run_all(page)

    panel = page.locator(f"{ACTIVE_NOTEBOOK} .jp-OutputArea-output .jupyter-widgets").first
    panel.wait_for(state="visible")
    points = page.locator(f"{ACTIVE_NOTEBOOK} .widget-label:has-text('points on the plot')")
    points.wait_for(state="visible")
    assert points.inner_text().strip() == "points on the plot: 0"
    images = page.locator(f"{ACTIVE_NOTEBOOK} .jupyter-widgets img")
    page.wait_for_function(
        "sel => document.querySelectorAll(sel).length >= 1",
        arg=f"{ACTIVE_NOTEBOOK} .jupyter-widgets img",
    )
    plot_before = images.last.get_attribute("src")

    # Move the workers slider with the keyboard, as a learner can: 1 -> 2.
    slider = page.locator(f"{ACTIVE_NOTEBOOK} .widget-slider:has(label:text-is('workers'))")
    readout = slider.locator(".widget-readout")
    assert readout.inner_text().strip() == "1"
    slider.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "el => el.innerText.trim() === '2'", arg=readout.element_handle(), timeout=10_000
    )

    page.locator(f"{ACTIVE_NOTEBOOK} .jupyter-widgets button:has-text('Run')").click()
    page.wait_for_function(
        """([sel, before]) => {
            const label = [...document.querySelectorAll(sel + ' .widget-label')]
                .find(e => e.innerText.includes('points on the plot'));
            const imgs = document.querySelectorAll(sel + ' .jupyter-widgets img');
            return label && label.innerText.trim() === 'points on the plot: 1'
                && imgs.length >= 2 && imgs[imgs.length - 1].src !== before
                && imgs[imgs.length - 1].naturalWidth > 100;
        }""",
        arg=[ACTIVE_NOTEBOOK, plot_before],
        timeout=90_000,
    )
    text = panel.inner_text()
    assert "Pool(2)" in text and "speedup" in text, text
    assert images.first.evaluate("img => img.naturalWidth") > 100, "no timeline drawn"
    stderr = page.locator(f"{ACTIVE_NOTEBOOK} [data-mime-type='application/vnd.jupyter.stderr']")
    assert stderr.count() == 0, "a cell wrote to stderr"
    panel.scroll_into_view_if_needed()
    screenshot(page, tmp_path, "explorer-after-run", full_page=True)
