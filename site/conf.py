"""Sphinx configuration of the course's website (``make site``; see tools/build_site.py).

Sphinx reads the folder that tools/build_site.py stages (this file, index.md with the course map
filled in, the lessons and the released assignments), never site/ itself. Everything the pages
use is on this machine: the theme's assets are local, math becomes MathML at build time
(_ext/mathml.py), and no widget JavaScript is loaded from a CDN.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

# Written by tools/build_site.py from the README's Binder badge: the one place the repository
# slug (owner/name) and the branch are written.
COURSE = json.loads((HERE / "_course.json").read_text())

project = "Python multiprocessing, hands on"
author = "The course's authors"
copyright = "the course's authors, BSD-3-Clause"

extensions = ["myst_nb", "mathml"]
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "notebooks/reference", "_course.json"]
myst_enable_extensions = ["dollarmath"]
html_math_renderer = "mathml"
smartquotes = False  # show the lessons' text as written (and as JupyterLab shows it)

# -- executing the lessons -------------------------------------------------------------------------
# Lessons run top to bottom at build time (as `Run All` does). The released assignments are shown
# as a learner receives them: their stubs raise NotImplementedError, so they are not executed.
# "force": every build runs every lesson (make site, CI). MPCOURSE_SITE_EXECUTION=cache reuses the
# outputs of lessons whose code did not change (jupyter-cache in _build/.jupyter_cache): quicker
# while editing the site, but blind to changes in helpers/.
nb_execution_mode = os.environ.get("MPCOURSE_SITE_EXECUTION", "force")
nb_execution_excludepatterns = ["release/*/*.ipynb"]
nb_execution_raise_on_error = True  # a failing lesson fails the build
nb_execution_allow_errors = False  # except in cells tagged raises-exception
nb_execution_timeout = 180  # seconds per cell; a lesson cell takes at most ~30 s under test
nb_execution_in_temp = False  # run in notebooks/, next to reference/
nb_execution_show_tb = True
nb_output_stderr = "warn"  # with -W a lesson that writes to stderr fails the build
nb_ipywidgets_js: dict = {}  # no require.js or widget manager from a CDN

# -- the pages ---------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_last_updated_fmt = None
html_context = {"default_mode": "light"}  # an empty mode makes the theme log a console error
html_theme_options = {
    "repository_url": f"https://github.com/{COURSE['repo']}",
    "repository_branch": COURSE["ref"],
    "path_to_docs": "",  # the staged layout mirrors the repository's (notebooks/, release/)
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "use_download_button": True,
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    "home_page_in_toc": True,
    "show_toc_level": 2,
}
