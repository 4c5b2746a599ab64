"""Which digest is which (issue 11 review, item 10c).

A results log names two digests of one capture: the **identity digest** (over what
identifies the machine and its configuration: the same for every capture of one setup) and
the **manifest digest** (sha256 of the signed manifest's bytes: what each result names).
``envstamp run`` printed "manifest sha256:d0fd..." while ``show`` and ``diff`` printed
"sha256:036c..." for the same log, both just "sha256".  Every place that prints one now
says which, the identity first, with the same words in run, show and diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

import attrs
import pytest

from envstamp.cli import main as cli
from envstamp.stamping.results import load_results
from tests.diff_support import cpu_build, speed, with_build, write_log
from tests.timing_support import make_manifest


def short(digest: str | None) -> str:
    assert digest is not None
    return digest[:19]


def test_run_names_both_digests_identity_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from envstamp.stamping import timing

    monkeypatch.setattr(timing, "_capture", lambda options, runner: make_manifest())
    out = tmp_path / "r.jsonl"
    code = cli.main(["run", "-q", "-o", str(out), "--", sys.executable, "-c", "pass"])
    err = capfd.readouterr().err
    assert code == 0, err
    (result,) = load_results(out)
    assert result.manifest is not None
    identity, manifest = short(result.manifest.identity_digest), short(result.manifest_digest)
    assert identity != manifest
    assert (f"(identity digest {identity}, manifest digest {manifest}); check with "
            f"'envstamp verify {out}'") in err
    assert "(manifest sha256:" not in err


def test_show_and_diff_say_identity_digest(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    manifest = with_build(cpu_build("0c1e570-cpu.json"))
    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    log = write_log(tmp_path / "two.jsonl", [(manifest, [speed("tg16", [26400.0, 25700.0])]),
                                             (threads, [speed("tg16", [9100.0, 9350.0])])])
    results = load_results(log)
    first, second = (r.manifest for r in results)
    assert first is not None and second is not None
    ids = [short(first.identity_digest), short(second.identity_digest)]
    digests = [short(r.manifest_digest) for r in results]

    assert cli.main(["show", str(log)]) == 0
    out = capsys.readouterr().out
    assert f", identity digest {ids[0]}, results log" in out.splitlines()[0]
    assert (f"Setup 1 (identity digest {ids[0]}, manifest digest {digests[0]}, captured "
            in out)
    assert (f"Setup 2 (identity digest {ids[1]}, manifest digest {digests[1]}, captured "
            in out)
    assert cli.main(["show", str(log), "--markdown", "--no-redact"]) == 0
    out = capsys.readouterr().out
    assert f"identity digest `{ids[0]}`" in out.splitlines()[0]

    assert cli.main(["diff", str(log), str(log)]) == 0
    out = capsys.readouterr().out
    a_line = next(line for line in out.splitlines() if line.startswith("  A  "))
    assert a_line.endswith(f"; identity digest {ids[0]}")
    # no bare, unnamed digest in any of these views
    for line in out.splitlines():
        assert "; sha256:" not in line and "(sha256:" not in line
