"""Install the course's JupyterLab settings into the current environment.

Run as ``python -m helpers.setup.labsetup`` (``make install`` and Binder's ``postBuild`` do). It merges
the course's defaults into ``<app dir>/settings/overrides.json`` (the app dir is
``<prefix>/share/jupyter/lab``, or ``$JUPYTERLAB_DIR``), so that a first-time learner sees no
prompt unrelated to the course: no "Would you like to get notified about official Jupyter news?"
toast, no update check. Settings a learner changes later still win over these defaults, and
other entries already in ``overrides.json`` are kept.

On Windows it also disables nbgrader's Assignment List in ``<prefix>/etc/jupyter/labconfig/
page_config.json``: nbgrader has no exchange on Windows, so that list could only show an error.
(Elsewhere ``nbgrader_config.py`` gives a learner a private exchange, and the list works.)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "DISABLED_ON",
    "OVERRIDES",
    "app_dir",
    "install",
    "main",
    "page_config_path",
    "settings_dir",
]

OVERRIDES: dict[str, Any] = {
    "@jupyterlab/apputils-extension:notification": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}

# nbgrader plug-ins that cannot work for the platform, disabled in the page config.
DISABLED_ON: dict[str, dict[str, bool]] = {
    "win32": {"@jupyter/nbgrader:assignment-list": True},
}


def app_dir(prefix: str | os.PathLike[str] | None = None) -> Path:
    """JupyterLab's application directory for this environment (as ``jupyter lab path`` says)."""
    if prefix is None and os.environ.get("JUPYTERLAB_DIR"):
        return Path(os.environ["JUPYTERLAB_DIR"]).resolve()
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "lab"


def settings_dir(
    prefix: str | os.PathLike[str] | None = None, lab_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Where JupyterLab reads ``overrides.json``: ``<lab_dir or app_dir(prefix)>/settings``."""
    return (Path(lab_dir) if lab_dir is not None else app_dir(prefix)) / "settings"


def page_config_path(prefix: str | os.PathLike[str] | None = None) -> Path:
    """The environment-wide page config (``<prefix>/etc/jupyter/labconfig/page_config.json``)."""
    return Path(prefix or sys.prefix) / "etc" / "jupyter" / "labconfig" / "page_config.json"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def install(
    prefix: str | os.PathLike[str] | None = None, platform: str = sys.platform
) -> list[Path]:
    """Merge the course's settings into this environment; return the files written."""
    written = []
    path = settings_dir(prefix) / "overrides.json"
    current = _read_json(path)
    for plugin, values in OVERRIDES.items():
        entry = current.get(plugin)
        current[plugin] = {**(entry if isinstance(entry, dict) else {}), **values}
    _write_json(path, current)
    written.append(path)
    disable = DISABLED_ON.get(platform)
    if disable:
        page = page_config_path(prefix)
        config = _read_json(page)
        disabled = config.get("disabledExtensions")
        if isinstance(disabled, list):  # the pre-2.10 list form
            disabled = dict.fromkeys(disabled, True)
        config["disabledExtensions"] = {**(disabled or {}), **disable}
        _write_json(page, config)
        written.append(page)
    return written


def main() -> int:
    for path in install():
        print(f"JupyterLab settings written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
