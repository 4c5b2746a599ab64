"""Which digest is which, in shareable views too (issue 15, "one name, one number").

``--markdown`` is redacted, and a redacted copy of a manifest has a digest of its own (over
the salted host name, the ``~`` paths).  ``show --markdown`` of a signed envelope printed
that digest beside "signed envelope (verified)" - a number nobody else holds, read as the
file's.  Every view now prints the identity digest of the input as it is (the same number
``show`` prints), and names it; the manifest digests a log's results name come after it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.cli.main import main
from envstamp.manifest.redact import redact
from envstamp.manifest.serialize import with_digest
from tests.diff_support import RENDER_NODE, WORKSTATION, base, speed, write_log

DIGEST = re.compile(r"sha256:[0-9a-f]{12}")


def _envelope(path: Path, manifest: Any) -> Path:
    from envstamp.signing import keys, sign

    envelope = sign.sign_manifest(manifest, keys.default_signing_key())
    path.write_text(json.dumps(envelope), encoding="utf-8")
    return path


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_a_redacted_copy_has_a_digest_of_its_own() -> None:
    """The premise: printing the redacted copy's digest would name another manifest."""
    manifest = with_digest(base())
    assert redact(manifest).identity_digest != manifest.identity_digest


def test_show_markdown_prints_the_files_identity_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = with_digest(base())  # as a capture, and signing, compute it
    assert manifest.identity_digest is not None
    path = _envelope(tmp_path / "box.json", manifest)
    own = manifest.identity_digest[:19]
    copy = redact(manifest).identity_digest
    assert copy is not None
    text = _cli(capsys, "show", str(path))
    markdown = _cli(capsys, "show", "--markdown", str(path))
    assert text.splitlines()[0] == (
        f"envstamp manifest: captured 2025-03-14T09:12:44.201Z, envstamp 0.1.0, "
        f"identity digest {own}, signed envelope (verified)")
    assert markdown.splitlines()[0] == (
        f"**envstamp** 0.1.0 · captured 2025-03-14T09:12:44.201Z · identity digest `{own}` · "
        "signed envelope (verified)")
    assert copy[:19] not in markdown
    assert "tensorbox" in text and "tensorbox" not in markdown  # still redacted
    # JSON is the manifest as the file holds it: the same digest, in full
    data = json.loads(_cli(capsys, "show", "--json", str(path)))
    assert data["identity_digest"] == manifest.identity_digest


def test_show_markdown_of_a_log_names_each_setups_digests_as_the_log_holds_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = with_digest(base())
    threads = attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": "3"})
    log = write_log(tmp_path / "two.jsonl", [(manifest, [speed("tg16", [26100.0, 26900.0])]),
                                             (threads, [speed("tg16", [9100.0, 9350.0])])])
    shown = json.loads(_cli(capsys, "show", "--json", str(log)))
    setups = [(s["identity_digest"][:19], s["manifest_digests"][0][:19]) for s in shown["setups"]]
    text = _cli(capsys, "show", str(log))
    markdown = _cli(capsys, "show", "--markdown", str(log))
    for index, (identity, digest) in enumerate(setups, start=1):
        heading = (f"Setup {index} (identity digest {identity}, manifest digest {digest}, "
                   "captured 2025-03-14T09:12:44.201Z): 1 result; ")
        assert heading in text
        assert f"#### {heading}" in markdown
    assert markdown.splitlines()[0].split(" · ")[2] == f"identity digest `{setups[0][0]}`"
    # every digest the Markdown prints is one the log holds
    assert set(DIGEST.findall(markdown)) == {d for pair in setups for d in pair}
    assert "differs from setup 1 in env.OMP_NUM_THREADS: unset -> 3" in markdown


@pytest.mark.parametrize("verb", ["diff", "check"])
def test_pasted_diff_and_check_print_the_inputs_own_digests(
    verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], hosts: Path
) -> None:
    if verb == "diff":
        from envstamp.documents import load_document

        a, b = (load_document(str(path)).manifest for path in (WORKSTATION, RENDER_NODE))
        argv = ["diff", str(WORKSTATION), str(RENDER_NODE)]
    else:
        from envstamp.capturing.capture import capture

        host = str(hosts / "linux-debian12-vm")
        a = b = capture(replay=host)
        baseline = tmp_path / "baseline.json"
        baseline.write_text(json.dumps(_plain(a)), encoding="utf-8")
        argv = ["check", str(baseline), "--replay", host]
    data = json.loads(_cli(capsys, *argv, "--json"))
    own = [data["a"]["identity_digest"][:19], data["b"]["identity_digest"][:19]]
    assert own[0] == (a.identity_digest or "")[:19] and own[1] == (b.identity_digest or "")[:19]
    markdown = _cli(capsys, *argv, "--markdown")
    rows = [line for line in markdown.splitlines() if line.startswith(("| A |", "| B |"))]
    assert [row.rstrip(" |").rsplit("| ", 1)[-1] for row in rows] == [f"`{d}`" for d in own]
    text = _cli(capsys, *argv)
    assert [line.rsplit("identity digest ", 1)[-1] for line in text.splitlines()[1:3]] == own


def _plain(manifest: Any) -> Any:
    from envstamp.manifest.serialize import unstructure

    return unstructure(manifest)
