"""JupyterHub configuration for a small class of the course on one machine (a template).

Used by tests/test_jupyterhub_class.py, and a starting point for an instructor (docs/jupyterhub.md).
Everything that depends on the machine is read from a JSON file named by the environment variable
MPCOURSE_HUB_SETTINGS (written by tests/hub/hubclass.py), so this file stays unchanged:

    {"port": 8000, "hub_port": 8081, "proxy_api_port": 8001,
     "proxy_command": "/root/.cache/mpcourse-hub/node_modules/.bin/configurable-http-proxy",
     "singleuser": "/path/to/venv/bin/jupyterhub-singleuser",
     "passwords": {"teacher": "...", "learner1": "..."}, "admins": ["teacher"],
     "state_dir": "/where/the/hub/keeps/its/database",
     "environment": {"MPCOURSE_EXCHANGE": "/srv/nbgrader/exchange", "PATH": "..."}}

The hub runs as root (LocalProcessSpawner starts each user's JupyterLab as that Unix user) and
listens on 127.0.0.1 only: put a TLS-terminating web server in front of it for a real class.
Passwords are fixed per user by FixedPasswordAuthenticator below (no PAM): fine for a test or a
workshop machine; a real class uses its institution's login (an OAuthenticator, LTI...).
"""

import hmac
import json
import os
from pathlib import Path

from jupyterhub.auth import Authenticator

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

SETTINGS = json.loads(Path(os.environ["MPCOURSE_HUB_SETTINGS"]).read_text())
STATE = Path(SETTINGS["state_dir"])


class FixedPasswordAuthenticator(Authenticator):
    """Each user has one fixed password, read from the settings file (no PAM, no system login)."""

    async def authenticate(self, handler, data):
        expected = SETTINGS["passwords"].get(data.get("username", ""))
        given = data.get("password", "")
        if expected is not None and hmac.compare_digest(expected.encode(), given.encode()):
            return data["username"]
        return None


# -- network: 127.0.0.1 only ---------------------------------------------------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{SETTINGS['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = SETTINGS["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{SETTINGS['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [SETTINGS["proxy_command"]]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")

# -- the hub's own state (database, cookie secret) outside the course --------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# On shutdown the hub stops every single-user server and the proxy it started.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# -- who may log in ------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = FixedPasswordAuthenticator
c.Authenticator.allowed_users = set(SETTINGS["passwords"])
c.Authenticator.admin_users = set(SETTINGS.get("admins", []))

# -- each user's JupyterLab, as that Unix user, from the course's environment -------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [SETTINGS["singleuser"]]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.environment = dict(SETTINGS.get("environment", {}))
# A loaded 2-core machine can take a while to start JupyterLab.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
