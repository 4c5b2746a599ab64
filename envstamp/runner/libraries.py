"""Third-party libraries used only as fallbacks (GitPython, py-cpuinfo, GPUtil), under timeouts.

Two of them start processes themselves: GitPython runs ``git``, GPUtil runs ``nvidia-smi``.
GitPython's spawn function is routed (:class:`~envstamp.runner.processes.Route`) for the
length of envstamp's call, so its processes are process trees like the runner's commands,
ended with everything they started when the call returns, times out or the capture's deadline
passes.  GPUtil runs in a child Python started by the runner (see ``_GPUTIL_CHILD``), which
makes it and its nvidia-smi one such tree.  (py-cpuinfo, used only where the system offers no
native description, is neither.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from envstamp.runner.answers import StatusAnswer, call_with_timeout
from envstamp.runner.processes import Route, install_route

if TYPE_CHECKING:
    import git

    from envstamp.runner.answer_types import GitAnswer, LibraryAnswer
    from envstamp.runner.commands import ChildRegistry


def _routed_call(
    fn: Callable[[], StatusAnswer], timeout: float, what: str, registry: ChildRegistry | None
) -> StatusAnswer:
    """``fn()`` under a timeout, the processes it starts routed: ended when it returns or
    is given up on."""
    route = Route(registry)

    def call() -> StatusAnswer:
        with route.active():
            return fn()

    try:
        return call_with_timeout(call, timeout, what)
    finally:
        route.close()

# ------------------------------------------------------------------------ git and libraries


def git_answer(path: str, timeout: float, registry: ChildRegistry | None = None) -> GitAnswer:
    """Describe a git checkout with GitPython (imported only here: it costs ~50 ms)."""

    def ask() -> GitAnswer:
        try:
            import git
            import git.cmd
        except ImportError as exc:
            return {"status": "absent", "detail": f"GitPython unavailable: {exc}"}
        install_route(git.cmd, "safer_popen")
        try:
            repo = git.Repo(path, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            return {"status": "absent", "detail": "not a git checkout"}
        except git.GitError as exc:
            return {"status": "error", "detail": str(exc).splitlines()[0]}
        with repo:
            return _describe_repo(repo, timeout)

    return _routed_call(ask, timeout, "git", registry)


def _describe_repo(repo: git.Repo, timeout: float) -> GitAnswer:
    import git

    def run_git(*args: str) -> str | None:
        try:
            return str(repo.git.execute(["git", *args], kill_after_timeout=timeout)).strip()
        except (git.GitCommandError, git.GitCommandNotFound, OSError, ValueError):
            return None

    try:
        commit = repo.head.commit.hexsha
    except (ValueError, git.GitError):
        commit = None
    try:
        branch = None if repo.head.is_detached else repo.active_branch.name
    except (TypeError, ValueError, git.GitError):
        branch = None
    status = run_git("status", "--porcelain", "--untracked-files=no")
    remote = None
    try:
        if "origin" in [r.name for r in repo.remotes]:
            remote = next(iter(repo.remotes.origin.urls), None)
    except (ValueError, git.GitError, StopIteration):
        remote = None
    return {
        "status": "ok",
        "commit": commit,
        "describe": run_git("describe", "--tags", "--always", "--dirty"),
        "branch": branch,
        "dirty": None if status is None else bool(status),
        "remote": remote,
    }


def library_answer(
    name: str, timeout: float, registry: ChildRegistry | None = None
) -> LibraryAnswer:
    """Third-party libraries envstamp uses only as fallbacks, each under a timeout;
    ``registry`` (a runner's) is where the processes a library starts are registered."""
    if name == "py-cpuinfo":
        return call_with_timeout(_py_cpuinfo, timeout, name)
    if name == "gputil":
        return _gputil(timeout, registry)
    return {"status": "unsupported", "detail": f"unknown library {name}"}


def _py_cpuinfo() -> LibraryAnswer:
    try:
        import cpuinfo  # py-cpuinfo or py-cpuinfo2: both install this module
    except ImportError:
        # An optional extra: its absence is an answer like any other, recorded and replayed.
        return {
            "status": "absent",
            "detail": "py-cpuinfo unavailable: not installed (the envstamp[cpuinfo] extra)",
        }
    info = cpuinfo.get_cpu_info()
    return {"status": "ok", "info": {k: v for k, v in info.items() if _jsonable(v)}}


# GPUtil runs in a child Python, a command of the runner's like any other.  In this process
# its import is not safe: it imports distutils, which setuptools' shim (_distutils_hack)
# answers by importing setuptools from inside a meta-path finder, holding the interpreter's
# global import lock, while probe threads import modules of their own - a deadlock that hung
# `envstamp run` for good (seen once in 40 runs).  In a child, the import costs only that
# child, and nvidia-smi, which GPUtil starts itself, is part of the command's process tree:
# the child keeps inherited descriptors open for it (close_fds=False), so the tree's marker
# reaches whatever nvidia-smi leaves behind.  The child prints one JSON answer.
_GPUTIL_CHILD = """
import json, sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]  # never a GPUtil.py of the cwd
try:
    import functools, subprocess
    import GPUtil
    import GPUtil.GPUtil as module
except Exception as exc:  # it imports distutils, gone in Python 3.12
    print(json.dumps({"status": "unsupported", "detail": f"GPUtil does not import here: {exc}"}))
    sys.exit(0)
module.Popen = functools.partial(subprocess.Popen, close_fds=False)
keys = {"id": "id", "uuid": "uuid", "name": "name", "driver": "driver", "serial": "serial",
        "memory_total_mib": "memoryTotal", "memory_used_mib": "memoryUsed",
        "temperature_c": "temperature", "load": "load"}
gpus = [{k: getattr(g, a, None) for k, a in keys.items()} for g in GPUtil.getGPUs()]
print(json.dumps({"status": "ok", "gpus": gpus}, default=str))
"""


def _gputil(timeout: float, registry: ChildRegistry | None) -> LibraryAnswer:
    """GPUtil's GPUs, asked of a child Python (see _GPUTIL_CHILD); failure is data."""
    import sys

    from envstamp.runner.commands import run_command

    if not sys.executable:
        return {"status": "unsupported", "detail": "no Python interpreter to run GPUtil in"}
    ran = run_command([sys.executable, "-c", _GPUTIL_CHILD], timeout, {}, registry)
    if ran["status"] != "ok":
        return {"status": ran["status"], "detail": f"gputil: {ran.get('detail')}"}
    lines = str(ran.get("stdout", "")).strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines and ran.get("returncode") == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("status") not in ("ok", "unsupported"):
        last = str(ran.get("stderr", "")).strip().splitlines()
        why = last[-1][:200] if last else f"exited {ran.get('returncode')}"
        return {"status": "error", "detail": f"gputil: {why}"}
    if answer["status"] == "unsupported":
        return {"status": "unsupported", "detail": str(answer.get("detail"))}
    gpus = answer.get("gpus")
    listed = [gpu for gpu in gpus if isinstance(gpu, dict)] if isinstance(gpus, list) else []
    return {"status": "ok", "gpus": listed}


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
