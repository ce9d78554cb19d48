"""Install the course's JupyterLab settings into the current environment.

Run as ``python -m helpers.labsetup`` (``make install`` and Binder's ``postBuild`` do). It writes
``<prefix>/share/jupyter/lab/settings/overrides.json`` so that a first-time learner sees no
prompt unrelated to the course (the "receive official Jupyter news?" toast, update checks).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OVERRIDES: dict[str, Any] = {
    "@jupyterlab/apputils-extension:notification": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}


def settings_dir(prefix: str | None = None) -> Path:
    """Where JupyterLab reads ``overrides.json`` for this environment."""
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "lab" / "settings"


def install(prefix: str | None = None) -> Path:
    """Merge the course's overrides into ``overrides.json`` and return its path."""
    path = settings_dir(prefix) / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current: dict[str, Any] = {}
    if path.exists():
        try:
            current = json.loads(path.read_text())
        except json.JSONDecodeError:
            current = {}
    for plugin, values in OVERRIDES.items():
        current.setdefault(plugin, {}).update(values)
    path.write_text(json.dumps(current, indent=2) + "\n")
    return path


if __name__ == "__main__":
    print(f"JupyterLab settings written to {install()}")
