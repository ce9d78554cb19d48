"""Hostile code, as source text, shared by the two layers that must survive it.

``tests/test_grading_sandbox.py`` runs it directly in a :class:`helpers.grading.sandbox.Sandbox`;
``tests/test_grading_hostile.py`` hands it in as a cell of a learner's notebook and grades it.
Each snippet prints one JSON line as its last output, which the sandbox tests read.
"""

from __future__ import annotations

__all__ = ["detached_grandchild", "fork_bomb"]


def fork_bomb(attempts: int, child_seconds: float) -> str:
    """Fork up to ``attempts`` children, each sleeping ``child_seconds``, until a limit refuses;
    then print ``{"children": n}``, the number that started."""
    return f"""
import json, os, time
children = 0
try:
    for _ in range({attempts}):
        if os.fork() == 0:
            time.sleep({child_seconds})
            os._exit(0)
        children += 1
except OSError:
    pass
print(json.dumps({{"children": children}}), flush=True)
"""


def detached_grandchild(seconds: float) -> str:
    """Start a grandchild in a session of its own (so it escapes its parent's process group),
    sleeping ``seconds``; print ``{"forked": true}`` once its parent has exited."""
    return f"""
import json, os, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep({seconds})
    os._exit(0)
os.waitpid(pid, 0)
print(json.dumps({{"forked": True}}), flush=True)
"""
