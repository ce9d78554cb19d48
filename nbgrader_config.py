"""nbgrader configuration for the multiprocessing course (run nbgrader from this folder)."""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

HERE = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "multiprocessing-course"

# Each cell gets 60 s. The graded tests bound their own waits well below this (helpers.grading
# runs learners' code with a 20 s limit), so a hang costs a failed test, never the notebook.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Autograding decides every verdict where the learner's code cannot reach it: TrustedExecute
# (helpers/grading/nbgrader_ext.py) replaces nbgrader's Execute. The learner's cells run once in
# a sandbox (bubblewrap: read-only course, no source/ or gradebook, private /tmp, no network,
# process and memory limits); the test cells run in a separate checker process. Validate, which
# learners press in JupyterLab, still runs the notebook in a kernel as usual.
c.TrustedExecute.timeout = 60
c.Autograde.autograde_preprocessors = [
    "helpers.grading.nbgrader_ext.TrustedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Kernels that nbgrader starts (and the worker processes they spawn) must import `helpers` even
# when the course was not pip-installed into the grading environment: put the course root on
# PYTHONPATH. Spawned children inherit the environment, so they find it too.
_paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
if str(HERE) not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), *_paths])

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# --- Exchange, for a learner on their own (Binder, `make lab`) ------------------------------------
# nbgrader's Assignment List (Nbgrader menu) asks the exchange for released assignments. Its
# default, /usr/local/share/nbgrader/exchange, exists only where an administrator created it;
# without it every section of the list shows "The exchange directory does not exist". So, unless
# MPCOURSE_EXCHANGE names a shared exchange or the default one exists, use a private exchange
# under the Jupyter data directory (~/.local/share/jupyter/nbgrader_exchange on Linux), created
# here on first use: the list is then empty but error-free. Validate needs no exchange at all.
# (nbgrader has no exchange on Windows; there the list keeps its message.)
_SHARED_EXCHANGE = Path("/usr/local/share/nbgrader/exchange")
if os.environ.get("MPCOURSE_EXCHANGE"):
    c.Exchange.root = os.environ["MPCOURSE_EXCHANGE"]
elif sys.platform != "win32" and not _SHARED_EXCHANGE.is_dir():
    from jupyter_core.paths import jupyter_data_dir

    _private_exchange = Path(jupyter_data_dir()) / "nbgrader_exchange"
    try:
        _private_exchange.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # a read-only home: nbgrader shows its own message, nothing else breaks
    else:
        c.Exchange.root = str(_private_exchange)
