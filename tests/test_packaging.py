"""Packaging and CI agree: the Pythons claimed are the Pythons tested, the layer contracts run.

pyproject.toml is read with plain text searches (tomllib is 3.11+ and the suite runs on 3.10
too); the shapes searched for are the ones these files are written in.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _extra(name: str) -> list[str]:
    """The requirement strings of one [project.optional-dependencies] extra."""
    match = re.search(rf"^{name} = \[\n(.*?)^\]", PYPROJECT, re.MULTILINE | re.DOTALL)
    assert match is not None, f"no extra {name!r} in pyproject.toml"
    return re.findall(r'^\s*"([^"]+)"', match.group(1), re.MULTILINE)


def test_ci_tests_exactly_the_pythons_the_classifiers_claim() -> None:
    claimed = re.search(r"^CLAIMED=\(([^)]*)\)", CI_RUN, re.MULTILINE)
    assert claimed is not None
    classifiers = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', PYPROJECT)
    assert claimed.group(1).split() == classifiers
    minimum = re.search(r'^requires-python = ">=(3\.\d+)"', PYPROJECT, re.MULTILINE)
    assert minimum is not None and classifiers[0] == minimum.group(1)


def test_ci_installs_the_readme_way_and_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'python -m pip install -e ".[test]" && python -m pytest' in readme
    assert re.search(r'^\s+python -m pip install -e "\.\[test\]"$', CI_RUN, re.MULTILINE)
    assert re.search(r"^\s+python -m pytest$", CI_RUN, re.MULTILINE)


def test_lint_imports_comes_with_the_test_extra_and_fails_the_ci_run() -> None:
    assert any(re.match(r"import-linter\b", req) for req in _extra("test"))
    # run from the venv that installed it, outside any `|| true` or `if`: under set -e a
    # broken contract ends the run
    assert "set -euo pipefail" in CI_RUN
    (line,) = [ln for ln in CI_RUN.splitlines() if ln.strip().endswith("/bin/lint-imports\"")]
    assert line == line.strip(), "lint-imports must run at the top level of the script"
    assert "[tool.importlinter]" in PYPROJECT and 'type = "layers"' in PYPROJECT


def test_dev_extra_builds_on_the_test_extra() -> None:
    assert "envstamp[test]" in _extra("dev")
