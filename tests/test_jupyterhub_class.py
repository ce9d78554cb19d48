"""A real class on this machine: JupyterHub, an instructor and two learners, nbgrader's exchange.

The round trip an instructor runs (docs/jupyterhub.md), end to end:

1. setup (tests/hub/hubclass.py): three real local users, a shared exchange (mode 1777), the
   class's venv with the course installed, JupyterHub with configurable-http-proxy on 127.0.0.1;
2. the instructor, on the command line as their own user: ``nbgrader generate_assignment pool``
   and ``nbgrader release_assignment pool``;
3. learner 1, in Chromium through the hub: logs in, JupyterLab opens, *Nbgrader > Assignment List*,
   **Fetch**; the answer cells are filled with the reference solutions (written into the fetched
   notebook before it is opened); opens the notebook, presses **Validate** ("Success!"), and
   **Submit** in the Assignment List. Learner 2 fetches and submits the blank notebook;
4. the instructor: ``nbgrader collect pool``, ``mpcourse grade pool`` (learner 1 scores 10/10,
   learner 2 scores 0), ``nbgrader generate_feedback pool``, ``nbgrader release_feedback pool``;
5. learner 1 presses **Fetch Feedback** in the browser; the feedback HTML is in their home.

Teardown stops the hub (which stops the proxy and every user's server), checks that no process
of the class is left, and removes the users. Needs root, npm (or a cached proxy), node, useradd,
Debian's chromium and /usr/bin/python3; without them the test skips, unless
MPCOURSE_REQUIRE_HUB=1, which makes it fail. The class's venv is made once (a minute or two) and
cached in /var/cache/mpcourse-hub ($MPCOURSE_HUB_CACHE); after that the test takes 2-4 minutes.
"""

from __future__ import annotations

import csv
import secrets
import time
from pathlib import Path

import nbformat
import pytest
from conftest import leftover_processes
from hub import hubclass
from support.browser_lab import chromium_session, playwright_or_skip, unavailable
from support.nbgrader_harness import Course
from test_browser import ACTIVE_NOTEBOOK, screenshot, validate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.xdist_group("jupyterhub"),
    pytest.mark.timeout(900),
]

ASSIGNMENT = NOTEBOOK = "pool"
SUCCESS = "Success! Your notebook passes all the tests."
LIST = "#nbgrader-assignment-list"


# Like test_browser.py's playwright_api, deliberately: this one skips (or fails) by the hub's own
# rule, MPCOURSE_REQUIRE_HUB, and lives for this module only.
@pytest.fixture(scope="module")
def sync_playwright():
    return playwright_or_skip("MPCOURSE_REQUIRE_HUB")


@pytest.fixture(scope="module")
def classroom(sync_playwright, tmp_path_factory):
    """The class and its running hub; afterwards: nothing left running, the users removed."""
    if missing := hubclass.missing_requirements():
        unavailable(
            "cannot run a JupyterHub class here: " + "; ".join(missing), "MPCOURSE_REQUIRE_HUB"
        )
    try:
        proxy = hubclass.ensure_proxy()
        bin_dir = hubclass.class_env()
    except (RuntimeError, OSError) as exc:
        unavailable(f"cannot install the class's software: {exc}", "MPCOURSE_REQUIRE_HUB")
    tag = f"hub-{secrets.token_hex(4)}"
    room = hubclass.ClassRoom.create(tag, bin_dir)
    hub = None
    try:
        hubclass.install_course(bin_dir, room.base)
        hub = hubclass.Hub(room, proxy).start()
        yield room, hub
    finally:
        killed = hub.stop() if hub is not None else hubclass.kill_tagged(tag)
        left = leftover_processes(tag)
        left += [  # even a process that dropped the tag from its environment
            f"{p.pid} ({user.name})" for user in room.users for p in hubclass.processes_of(user.uid)
        ]
        if hub is not None and hub.log_path.exists():  # kept: the class's folder goes
            kept = tmp_path_factory.mktemp("hub") / "jupyterhub.log"
            kept.write_bytes(hub.log_path.read_bytes())
            print(f"hub log: {kept}")
        not_removed = room.remove()
    assert not killed, f"processes outlived the hub and had to be killed: {killed}"
    assert not left, f"processes of the class still running: {left}"
    assert not not_removed, f"users not removed: {not_removed}"


# -- the learner's side, in the browser -----------------------------------------------------------


def log_in(browser, hub: hubclass.Hub, user: hubclass.LocalUser):
    """A fresh browser session in which ``user`` logs in to the hub; JupyterLab opens."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)  # a loaded 2-core machine is slow
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user.name)
    page.fill("#password_input", user.password)
    page.click("#login_submit")
    # the hub starts the user's server (as that Unix user) and redirects to /user/NAME/lab
    page.wait_for_selector("#jp-main-statusbar", timeout=300_000)
    assert f"/user/{user.name}/lab" in page.url, page.url
    return page


def assignment_list(page):
    """Nbgrader > Assignment List, loaded."""
    page.click("#jp-MainMenu >> text=Nbgrader")
    page.click("li.lm-Menu-item:has-text('Assignment List')")
    panel = page.locator(LIST)
    panel.wait_for(state="visible")
    for section in ("released", "fetched", "submitted"):
        panel.locator(f"#{section}_assignments_list_loading").wait_for(state="hidden")
        assert not panel.locator(f"#{section}_assignments_list_error").is_visible(), panel.locator(
            f"#{section}_assignments_list_error"
        ).inner_text()
    return panel


def fetch(page) -> None:
    panel = assignment_list(page)
    panel.locator("#released_assignments_list button:has-text('Fetch')").click()
    panel.locator("#fetched_assignments_list button:has-text('Submit')").wait_for()


def submit(page) -> None:
    panel = assignment_list(page)
    panel.locator("#fetched_assignments_list button:has-text('Submit')").click()
    panel.locator("#submitted_assignments_list button:has-text('Fetch Feedback')").wait_for()


def answer_with_reference(room: hubclass.ClassRoom, learner: hubclass.LocalUser) -> Path:
    """Fill the learner's fetched notebook with the reference answers (from source/)."""
    path = learner.home / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    answers = Course(room.course).reference_answers(ASSIGNMENT, NOTEBOOK)
    nb = nbformat.read(path, as_version=4)
    filled = 0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]
            filled += 1
    assert filled, "the fetched notebook has no answer cells"
    nbformat.write(nb, path)
    learner.own(path)
    return path


def instructor(room: hubclass.ClassRoom, *cmd: str) -> str:
    result = room.instructor_runs(*cmd)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


# -- the round trip --------------------------------------------------------------------------------


def test_a_class_round_trip_through_jupyterhub(classroom, sync_playwright, tmp_path):
    room, hub = classroom
    good, blank = room.learners
    started = time.monotonic()

    # 2. the instructor releases the assignment into the shared exchange
    instructor(room, "nbgrader", "generate_assignment", ASSIGNMENT)
    instructor(room, "nbgrader", "release_assignment", ASSIGNMENT)
    released = room.exchange / hubclass.COURSE_ID / "outbound" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert released.exists()

    with chromium_session(sync_playwright) as browser:
        # 3. learner 1: fetch, answer, Validate, Submit, all through the hub
        page = log_in(browser, hub, good)
        fetch(page)
        screenshot(page, tmp_path, "hub-learner-fetched")
        answer_with_reference(room, good)
        page.goto(f"{hub.url}/user/{good.name}/lab/tree/{ASSIGNMENT}/{NOTEBOOK}.ipynb?reset")
        page.wait_for_selector(f"{ACTIVE_NOTEBOOK} .jp-Notebook .jp-Cell")
        page.wait_for_selector(f"{ACTIVE_NOTEBOOK} .validate-button")
        verdict = validate(page, tmp_path, "hub-learner-validate")
        assert SUCCESS in verdict, verdict
        submit(page)
        screenshot(page, tmp_path, "hub-learner-submitted")

        # learner 2 hands in the blank notebook
        other = log_in(browser, hub, blank)
        fetch(other)
        submit(other)
        other.context.close()
        inbound = sorted(p.name for p in (room.exchange / hubclass.COURSE_ID / "inbound").iterdir())
        assert [n.split("+")[0] for n in inbound] == sorted([good.name, blank.name]), inbound

        # 4. the instructor collects, grades the class, releases feedback
        instructor(room, "nbgrader", "collect", ASSIGNMENT)
        for learner in (good, blank):
            handed_in = room.course / "submitted" / learner.name / ASSIGNMENT
            assert (handed_in / f"{NOTEBOOK}.ipynb").exists(), learner.name
        report = instructor(room, "mpcourse", "grade", ASSIGNMENT)
        with open(room.course / "grades.csv", newline="") as f:
            grades = {row["student"]: row for row in csv.DictReader(f)}
        assert (grades[good.name]["score"], grades[good.name]["max_score"]) == ("10", "10"), report
        assert grades[blank.name]["score"] == "0", report
        instructor(room, "nbgrader", "generate_feedback", ASSIGNMENT)
        instructor(room, "nbgrader", "release_feedback", ASSIGNMENT)

        # 5. learner 1 fetches the feedback in the Assignment List
        page.goto(f"{hub.url}/user/{good.name}/lab?reset")
        page.wait_for_selector("#jp-main-statusbar")
        panel = assignment_list(page)
        panel.locator("#submitted_assignments_list button:has-text('Fetch Feedback')").click()
        panel.locator("#submitted_assignments_list >> text=(view feedback)").wait_for()
        screenshot(page, tmp_path, "hub-learner-feedback")
        page.context.close()

    feedback = sorted((good.home / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
    assert feedback, f"no feedback in {good.home / ASSIGNMENT}"
    html = feedback[-1].read_text()
    assert "Score: 10.0 / 10.0" in html, "the feedback does not show the full score"
    assert feedback[-1].stat().st_uid == good.uid
    print(f"round trip took {time.monotonic() - started:.0f} s")
