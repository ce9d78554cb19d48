"""Lesson 09's performance explorer in a real browser: JupyterLab in headless Chromium (Playwright).

A small temporary notebook shows the explorer with a tiny workload; the test runs it, moves the
``workers`` slider with the keyboard as a learner can, presses Run, and waits until the speedup
plot's image is replaced and the points counter goes up, then checks that the explanation appeared
and nothing was written to stderr. Screenshots are saved under the test's tmp_path (paths printed;
run with -s to see them) and, if MPCOURSE_ARTIFACTS names a folder, copied to its browser/
subfolder. Debian's Chromium is required (``apt-get install chromium``); without it the test
skips, unless MPCOURSE_REQUIRE_BROWSER=1 makes it fail.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from conftest import TAG, leftover_processes, new_tag
from support.browser_lab import (
    LabServer,
    browser_processes,
    launch_chromium,
    playwright_or_skip,
    screenshot,
)

# The same group as tests/test_browser.py: one browser test at a time on a small machine.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NOTEBOOK = "explorer.ipynb"
ACTIVE_NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
SETUP = """from helpers.instruments.explorer import Settings, explore

explorer = explore(Settings(workers=1, limit=2_000, tasks=8, repeats=1))"""


@pytest.fixture
def lab_with_explorer(tmp_path):
    """JupyterLab serving a folder with one notebook that shows the explorer."""
    sync_playwright = playwright_or_skip()
    root = tmp_path / "course"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / NOTEBOOK)
    tag = new_tag("browser-explorer")
    server = LabServer(root, tmp_path / "home", extra_env={TAG: tag})
    server.start()
    try:
        yield server, sync_playwright
    finally:
        leftovers = server.stop()
    assert not leftovers, f"processes outlived JupyterLab: {leftovers}"
    assert not leftover_processes(tag), "processes started by JupyterLab are still running"


def test_move_a_slider_press_run_and_the_plot_updates(lab_with_explorer, tmp_path):
    lab, sync_playwright = lab_with_explorer
    before = set(browser_processes())
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(90_000)  # a loaded 2-core machine is slow
            page.goto(lab.lab_url(NOTEBOOK))
            page.wait_for_selector(f"{ACTIVE_NOTEBOOK} .jp-Notebook .jp-Cell")
            page.wait_for_selector("#jp-main-statusbar >> text=/\\| Idle/")
            page.click("#jp-MainMenu >> text=Run")
            page.click("li.lm-Menu-item:has-text('Run All Cells')")

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
            stderr = page.locator(
                f"{ACTIVE_NOTEBOOK} [data-mime-type='application/vnd.jupyter.stderr']"
            )
            assert stderr.count() == 0, "a cell wrote to stderr"
            panel.scroll_into_view_if_needed()
            screenshot(page, tmp_path, "explorer-after-run", full_page=True)
        finally:
            chromium.close()
    deadline = time.monotonic() + 10
    while left := {pid: cmd for pid, cmd in browser_processes().items() if pid not in before}:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"browser processes left running: {left}"
