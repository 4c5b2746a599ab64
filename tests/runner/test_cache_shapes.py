"""The on-disk caches hand back JSON as read (``object``): what does not have the shape its
writer gave it (a file edited or damaged since) is asked again, never handed on."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from envstamp._version import __version__
from envstamp.runner import LiveRunner, caches

PY = sys.executable


def _tool(tmp_path: Path) -> str:
    path = tmp_path / "tool"
    path.write_text(f"#!{PY}\nprint('version 7')\n")
    path.chmod(0o755)
    return str(path)


CACHED = {"status": "ok", "returncode": 0, "stdout": "from the cache\n", "stderr": ""}


@pytest.mark.parametrize(
    ("entry", "stdout"),
    [
        (CACHED, "from the cache\n"),  # the control: this setup reads the cache
        ("a string", "version 7\n"),
        (42, "version 7\n"),
        (["a", "list"], "version 7\n"),
        ({"no": "status"}, "version 7\n"),
    ],
)
def test_a_static_entry_is_used_only_in_its_shape(
    entry: object, stdout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENVSTAMP_NO_CACHE", raising=False)
    boot = caches.boot_id()
    if boot is None:
        pytest.skip("no boot id on this OS: the static cache is off (nothing to damage)")
    tool = _tool(tmp_path)
    key = caches.command_cache_key((tool,), {})
    assert key is not None
    folder = Path(os.environ["ENVSTAMP_CACHE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stamp = {"boot_id": boot, "envstamp": __version__}
    (folder / "static.json").write_text(json.dumps({"stamp": stamp, "entries": {key: entry}}))
    result = LiveRunner().run([tool], cache=True)
    assert result.status == "ok" and result.stdout == stdout


def test_a_damaged_hash_entry_is_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENVSTAMP_NO_CACHE", raising=False)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(100))
    st = model.stat()
    key = f"{os.path.abspath(model)}|{st.st_size}|{st.st_mtime_ns}"
    folder = Path(os.environ["ENVSTAMP_CACHE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    entries = {key: {"not": "a digest"}}
    (folder / "hashes.json").write_text(json.dumps({"stamp": {"format": 1}, "entries": entries}))
    expected = hashlib.sha256(model.read_bytes()).hexdigest()
    assert LiveRunner().sha256_file(str(model)) == expected
