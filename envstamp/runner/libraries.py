"""Third-party libraries used only as fallbacks (GitPython, py-cpuinfo, GPUtil), under timeouts."""

from __future__ import annotations

import json
from typing import Any

from envstamp.runner.answers import Answer, call_with_timeout

# ------------------------------------------------------------------------ git and libraries


def git_answer(path: str, timeout: float) -> Answer:
    """Describe a git checkout with GitPython (imported only here: it costs ~50 ms)."""

    def ask() -> Answer:
        try:
            import git
        except ImportError as exc:
            return {"status": "absent", "detail": f"GitPython unavailable: {exc}"}
        try:
            repo = git.Repo(path, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            return {"status": "absent", "detail": "not a git checkout"}
        except git.GitError as exc:
            return {"status": "error", "detail": str(exc).splitlines()[0]}
        with repo:
            return _describe_repo(repo, timeout)

    return call_with_timeout(ask, timeout, "git")


def _describe_repo(repo: Any, timeout: float) -> Answer:
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


def library_answer(name: str, timeout: float) -> Answer:
    """Third-party libraries envstamp uses only as fallbacks, each under a timeout."""
    if name == "py-cpuinfo":
        return call_with_timeout(_py_cpuinfo, timeout, name)
    if name == "gputil":
        return call_with_timeout(_gputil, timeout, name)
    return {"status": "unsupported", "detail": f"unknown library {name}"}


def _py_cpuinfo() -> Answer:
    try:
        import cpuinfo  # py-cpuinfo or py-cpuinfo2: both install this module
    except ImportError as exc:
        return {"status": "absent", "detail": f"py-cpuinfo unavailable: {exc}"}
    info = cpuinfo.get_cpu_info()
    return {"status": "ok", "info": {k: v for k, v in info.items() if _jsonable(v)}}


def _gputil() -> Answer:
    try:
        import GPUtil  # the package's own name
    except Exception as exc:  # noqa: BLE001 - it imports distutils, gone in Python 3.12
        return {"status": "unsupported", "detail": f"GPUtil does not import here: {exc}"}
    gpus = GPUtil.getGPUs()
    return {
        "status": "ok",
        "gpus": [
            {
                "id": g.id,
                "uuid": g.uuid,
                "name": g.name,
                "driver": g.driver,
                "serial": g.serial,
                "memory_total_mib": g.memoryTotal,
                "memory_used_mib": g.memoryUsed,
                "temperature_c": g.temperature,
                "load": g.load,
            }
            for g in gpus
        ],
    }


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
