"""Parameters and names of results pass through the secrets module (issue 12 review, gap 7).

``envstamp run --param``/``--name`` and the library's ``Recorder.record(params=...)``,
timers, ``bench`` and ``add`` stored their values verbatim: an ``api_key`` parameter, a URL
with a password, a token in a note or in a result's name went into the log and every view of
it.  Now a secret-named parameter's value is redacted, and every text value and name goes
through ``redact_value`` before it is stored; views of an older log redact them too.  The
secrets below are made up for these tests.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from envstamp.cli import main as cli
from envstamp.manifest.secrets import REDACTED, redact_params
from envstamp.signing.keys import SigningKey
from envstamp.signing.sign import sign_manifest
from envstamp.stamping.results import Result, ResultLog, load_results
from tests.timing_support import make_manifest, open_recorder

GHP = "ghp_" + "Pq7Lm3Xz9Kw2Vb5Nr8Ty4Hj6Gf1Sd0Ac3Ee5Ui"
SECRETS = ["SEKRET60", "SEKRET61", GHP, "SEKRET63xx", "SEKRET64", "SEKRET65", "SEKRET66"]


def _cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue() + err.getvalue()


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def quick_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine is not what these tests are about: a prebuilt manifest, no capture."""
    from envstamp.stamping import timing

    monkeypatch.setattr(timing, "_capture", lambda options, runner: make_manifest())
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")


def test_run_params_and_name_are_redacted_in_the_log_and_every_view(
    tmp_path: Path, quick_capture: None
) -> None:
    out = tmp_path / "pp.jsonl"
    code, text = _cli(
        "run", "-q", "-o", str(out),
        "--param", "api_key=SEKRET60", "--param", "url=https://u:SEKRET61@h.example/x",
        "--param", f"note=see {GHP}", "--param", "n_gpu_layers=99",
        "--param", "model=/models/Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        "-n", "pp512 Bearer SEKRET63xx", "--", "true",
    )  # fmt: skip
    assert code == 0, text
    assert not _leaks(out.read_text(encoding="utf-8"))
    (result,) = load_results(out)
    assert result.params == {
        "api_key": REDACTED,
        "url": "https://h.example/x",
        "note": f"see {REDACTED}",
        "n_gpu_layers": "99",
        "model": "/models/Llama-3.2-3B-Instruct-Q4_K_M.gguf",
    }
    assert result.name == f"pp512 Bearer {REDACTED}"
    for view in ((), ("--json",), ("--markdown",), ("--markdown", "--no-redact")):
        code, shown = _cli("show", *view, str(out))
        assert code == 0, shown
        assert not _leaks(shown), (view, _leaks(shown))


def test_library_params_and_names_are_redacted_when_stored(tmp_path: Path) -> None:
    path = tmp_path / "lib.jsonl"
    with open_recorder(path) as rec:
        recorded = rec.record(
            "load Bearer SEKRET63xx",
            params={"api_key": "SEKRET60", "url": "https://u:SEKRET61@h.example/x",
                    "tags": ["fast", GHP], "threads": 8, "token": 12},
            metrics={"tokens_per_s": 41.2},
        )  # fmt: skip
        rec.record("walls", params={"password": "SEKRET64"}, wall_s=[0.1, 0.2])
        with rec.timer("timed region", hf_token="SEKRET65"):
            pass
        rec.bench(lambda: None, name="bench", repeat=2, params={"secret": "SEKRET66"})
        rec.add(Result(manifest_digest=rec.manifest_digest, name=f"added {GHP}",
                       params={"pwd": "SEKRET64", "cwd_pwd": "/home/x"}))  # fmt: skip
    # what the caller holds is what was stored
    assert recorded.params["api_key"] == REDACTED and recorded.name == f"load Bearer {REDACTED}"
    assert not _leaks(path.read_text(encoding="utf-8"))
    loaded = {r.name: r for r in load_results(path)}
    first = loaded[f"load Bearer {REDACTED}"]
    assert first.params == {"api_key": REDACTED, "url": "https://h.example/x",
                            "tags": ["fast", REDACTED], "threads": 8, "token": 12}  # fmt: skip
    assert loaded["walls"].params == {"password": REDACTED}
    assert loaded["timed region"].params == {"hf_token": REDACTED}
    assert loaded["bench"].params["secret"] == REDACTED
    assert loaded[f"added {REDACTED}"].params == {"pwd": REDACTED, "cwd_pwd": REDACTED}


def _old_log(path: Path) -> None:
    """A log as an older envstamp wrote it: secrets in a result's name and parameters."""
    key = SigningKey.generate()
    envelope = sign_manifest(make_manifest(), key)
    log = ResultLog(path, envelope=envelope, key=key)
    digest = log.manifest_digest
    log.write([Result(manifest_digest=digest, name="pp512 Bearer SEKRET63xx",
                      params={"api_key": "SEKRET60", "url": "https://u:SEKRET61@h/x"},
                      metrics={"tokens_per_s": 1.0})])  # fmt: skip
    log.close()


def test_pasted_views_of_an_older_log_redact_names_and_params(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    _old_log(path)
    assert "SEKRET60" in path.read_text(encoding="utf-8")  # what the old writer stored
    code, shown = _cli("show", "--markdown", str(path))
    assert code == 0, shown
    assert not _leaks(shown), _leaks(shown)
    assert "pp512 Bearer" in shown


def test_redact_params_rules() -> None:
    params: dict[str, Any] = {
        "api_key": "k3y", "API-KEY": ["a", "b"], "url": "http://u:pw@h/x", "n": 5,
        "token": 12, "flash": True, "none": None, "max_tokens": "128", "pwd": "/src",
    }  # fmt: skip
    assert redact_params(params) == {
        "api_key": REDACTED, "API-KEY": [REDACTED, REDACTED], "url": "http://h/x", "n": 5,
        "token": 12, "flash": True, "none": None, "max_tokens": "128", "pwd": "/src",
    }  # fmt: skip
    assert json.dumps(redact_params({GHP: 1})) == json.dumps({REDACTED: 1})
