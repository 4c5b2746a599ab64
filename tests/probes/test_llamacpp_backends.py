"""A llama.cpp build's backends are what something said of them; unknown is null, not [].

The fake binaries answer ``--version`` and ``--list-devices`` with what the two real builds
printed (tests/fixtures/llamacpp-real: neither names a backend, a CPU build lists no device),
so the only way to know their backends is the build folder's CMakeCache.txt.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import pytest

from envstamp.manifest.model import LlamaCppBuild
from envstamp.probes.context import CaptureOptions, ProbeContext
from envstamp.probes.llm import llamacpp
from envstamp.probes.llm.llamacpp_build import joined
from envstamp.runner import LiveRunner

REAL = Path(__file__).parents[1] / "fixtures" / "llamacpp-real"
NEW = REAL / "0.5.0-dev-0c1e57098"
OLD = REAL / "b5308-8733e0cf6"
BUILDS = pytest.mark.parametrize("folder", [NEW, OLD], ids=["0.5.0-dev", "b5308"])
posix_only = pytest.mark.skipif(os.name != "posix", reason="fake tools are sh scripts")


def copied_binary(where: Path, folder: Path) -> Path:
    """A llama-cli that prints what the real one printed for --version / --list-devices."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / "llama-cli"
    version = shlex.quote(str(folder / "version.txt"))
    devices = shlex.quote(str(folder / "list-devices.txt"))
    path.write_text(
        "#!/bin/sh\n"
        f'case "$1" in --version) cat {version} >&2;; --list-devices) cat {devices};;'
        " *) exit 1;; esac\n",
        encoding="utf-8",
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def probe_one(binary: Path, monkeypatch: pytest.MonkeyPatch) -> LlamaCppBuild:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("ENVSTAMP_LLAMA_CPP", raising=False)
    context = ProbeContext(runner=LiveRunner(),
                           options=CaptureOptions(llama_cpp=(str(binary),)))
    outcome = llamacpp.probe(context)
    (build,) = outcome.sections["llamacpp"]
    assert isinstance(build, LlamaCppBuild)
    return build


@posix_only
@BUILDS
def test_a_binary_without_its_build_folder_has_unknown_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: Path
) -> None:
    """The reviewer's copy of llama-bench out of its build: nothing names a backend, so the
    manifest says unknown (null) - not "no backend at all" ([])."""
    build = probe_one(copied_binary(tmp_path / "copy", folder), monkeypatch)
    assert build.backends is None
    assert build.build_flags == {} and build.devices == []
    assert build.compiler is not None  # the banner was read: it is the build, described


@posix_only
@BUILDS
def test_the_same_binary_beside_its_cmake_cache_has_its_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: Path
) -> None:
    (tmp_path / "CMakeCache.txt").write_text(
        (folder / "CMakeCache.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    build = probe_one(copied_binary(tmp_path / "bin", folder), monkeypatch)
    assert build.backends == ["CPU"]
    assert build.source is not None and "CMakeCache.txt" in build.source


@posix_only
def test_options_that_switch_every_backend_off_are_none_not_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "CMakeCache.txt").write_text(
        "GGML_CPU:BOOL=OFF\nGGML_CUDA:BOOL=OFF\nCMAKE_BUILD_TYPE:STRING=Release\n",
        encoding="utf-8",
    )  # hand-made: a cache whose options build no backend (the file's own KEY:TYPE=VALUE form)
    build = probe_one(copied_binary(tmp_path / "bin", NEW), monkeypatch)
    assert build.backends == []


@BUILDS
def test_a_version_text_names_no_backend(folder: Path) -> None:
    """``envstamp parse llama-version`` of what --version printed: backends unknown."""
    from envstamp.parsers.kinds import parse

    (build,) = parse("llama-version", (folder / "version.txt").read_text(encoding="utf-8"))[
        "llamacpp"
    ]
    assert build.backends is None


def test_backends_join_in_order_and_stay_unknown_only_when_no_source_named_any() -> None:
    assert joined(None, None) is None
    assert joined(None, []) == []
    assert joined(["CUDA"], None) == ["CUDA"]
    assert joined(["CUDA", "CPU"], ["CPU", "RPC"]) == ["CUDA", "CPU", "RPC"]


def test_diff_reads_null_backends_as_unknown_not_as_a_change(tmp_path: Path) -> None:
    from envstamp.diffing.differ import diff
    from tests.diff_support import base, edit_build, write

    known = base()
    assert known.llamacpp[0].backends
    unknown = edit_build(known, backends=None)
    report = diff(write(unknown, tmp_path / "a.json"), write(known, tmp_path / "b.json"),
                  verify=False)
    paths = [d.path for d in report.differences]
    assert not any("backends" in p for p in paths), paths
    (entry,) = [d for d in report.unknown if d.path.endswith(".backends")]
    assert entry.change.startswith("unknown on A")


def test_the_manifest_schema_allows_null_backends() -> None:
    import jsonschema

    from envstamp.manifest import schema
    from envstamp.manifest.serialize import unstructure, with_digest
    from tests.diff_support import base, edit_build

    manifest = with_digest(edit_build(base(), backends=None))
    data = unstructure(manifest)
    assert data["llamacpp"][0]["backends"] is None
    jsonschema.validate(data, schema.manifest_schema())
