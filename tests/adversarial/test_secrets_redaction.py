"""Shareable output (issue 12, item 8): ``--redact`` replaces exactly the user's home, never a
``home`` folder deeper in a path; every view made for pasting is redacted by default."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.cli import main as cli
from envstamp.manifest.model import Host, LlamaCppBuild, Manifest, ModelFile
from envstamp.manifest.redact import redact, redact_text
from envstamp.manifest.serialize import to_json, with_digest

SALT = "salt"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/home/alice/models/x.gguf", "~/models/x.gguf"),
        ("/home/alice", "~"),
        ("/Users/kim/llama.cpp/build/bin", "~/llama.cpp/build/bin"),
        (r"C:\Users\Bob\models\x.gguf", r"~\models\x.gguf"),
        ("C:/Users/Bob/models/x.gguf", "~/models/x.gguf"),
        ("/root/models/x.gguf", "~/models/x.gguf"),
        # Windows paths in any case, Fedora Atomic's /var/home (issue 12 review, gap 15)
        (r"c:\users\bob\models\x.gguf", r"~\models\x.gguf"),
        (r"C:\USERS\Bob\x", r"~\x"),
        ("d:/users/bob", "~"),
        ("/var/home/alice/models/x.gguf", "~/models/x.gguf"),
        ("PATH=/var/home/al/bin:/usr/bin", "PATH=~/bin:/usr/bin"),
        ("/mnt/var/home/alice/x", "/mnt/var/home/alice/x"),
        (r"c:\users\public\models", r"c:\users\public\models"),
        (r"C:\Users\DEFAULT\x", r"C:\Users\DEFAULT\x"),
        ("PATH=/home/al/bin:/usr/bin:/home/al/.local/bin", "PATH=~/bin:/usr/bin:~/.local/bin"),
        ('"/home/u/x"', '"~/x"'),
        # never a "home" or "Users" folder deeper in a path, nor a name that starts alike
        ("/mnt/data/home/models/x.gguf", "/mnt/data/home/models/x.gguf"),
        ("/srv/Users/kim/x", "/srv/Users/kim/x"),
        ("/homework/x", "/homework/x"),
        ("/rootfs/x", "/rootfs/x"),
        ("relative/home/x", "relative/home/x"),
        # shared folders belong to no one user
        ("/Users/Shared/models/x.gguf", "/Users/Shared/models/x.gguf"),
        (r"C:\Users\Public\models", r"C:\Users\Public\models"),
    ],
)
def test_home_folders_are_replaced_exactly(text: str, expected: str) -> None:
    assert redact_text(text, SALT) == expected


WORD = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=10)


HOME_ROOTS = ("root", "home", "var")  # /root, /home/<user>, /var/home/<user> are homes


@settings(max_examples=200)
@given(
    st.lists(WORD, min_size=1, max_size=4).filter(lambda words: words[0] not in HOME_ROOTS),
    st.lists(WORD, max_size=4),
)
def test_a_home_folder_inside_a_path_is_never_touched(before: list[str], after: list[str]) -> None:
    path = "/" + "/".join([*before, "home", "someone", *after])
    assert redact_text(path, SALT) == path


def _manifest(**changes: object) -> Manifest:
    base = Manifest(
        envstamp_version="0.1.0",
        captured_at="2026-11-27T10:00:00Z",
        host=Host(hostname="llama", machine_id="ab" * 32),
        llamacpp=[LlamaCppBuild(path="/data/alice/src/llama.cpp/build/bin/llama-cli")],
        models=[ModelFile(path="/mnt/data/home/models/x.gguf")],
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return with_digest(base)


def test_the_users_own_home_is_replaced_where_a_path_starts_with_it() -> None:
    shown = redact(_manifest(), home="/data/alice")
    assert shown.llamacpp[0].path == "~/src/llama.cpp/build/bin/llama-cli"
    assert shown.models[0].path == "/mnt/data/home/models/x.gguf"


def test_a_hostname_is_replaced_as_a_name_of_its_own_only() -> None:
    out = redact_text("llama-cli ran on llama (llama.lan) at ~/src/llama.cpp", SALT, "llama")
    assert out.startswith("llama-cli ran on redacted:")
    assert "(redacted:" in out and ".lan)" in out
    assert out.endswith(" at ~/src/llama.cpp")
    assert "llama" not in redact_text("http://llama:8080 \\\\llama\\share", SALT, "llama")


def test_secrets_in_an_old_manifest_are_redacted_too() -> None:
    env = {"OLLAMA_PASS": "hunter2", "OLLAMA_HOST": "u:pw0rd@127.0.0.1:1", "OMP_NUM_THREADS": "8"}
    shown = redact(_manifest(env=env))
    assert shown.env == {"OLLAMA_HOST": "127.0.0.1:1", "OMP_NUM_THREADS": "8"}
    assert "hunter2" not in to_json(shown) and "pw0rd" not in to_json(shown)


# --------------------------------------------------------------------------------- views


def _cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue() + err.getvalue()


MAC_HOST = "studio-mini"  # the hostname of the recorded macOS host


def test_capture_markdown_is_redacted_by_default(hosts: Path) -> None:
    code, text = _cli("capture", "--replay", str(hosts / "macos-14-m2pro"), "--markdown")
    assert code == 0, text
    assert "| Host | redacted:" in text
    assert MAC_HOST not in text


def test_capture_markdown_opt_out_and_contradiction(hosts: Path) -> None:
    replay = ("--replay", str(hosts / "macos-14-m2pro"))
    code, text = _cli("capture", *replay, "--markdown", "--no-redact")
    assert code == 0, text
    assert MAC_HOST in text
    code, text = _cli("capture", *replay, "--markdown", "--redact", "--no-redact")
    assert code == 2
    assert "contradict" in text


def test_show_markdown_is_redacted_and_plain_show_is_not(hosts: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "m.json"
    code, text = _cli("capture", "--replay", str(hosts / "macos-14-m2pro"), "--no-sign",
                      "-o", str(manifest))  # fmt: skip
    assert code == 0, text
    code, text = _cli("show", "--markdown", str(manifest))
    assert code == 0 and MAC_HOST not in text
    code, text = _cli("show", str(manifest))  # a terminal view of one's own file
    assert code == 0 and MAC_HOST in text


@pytest.mark.parametrize("verb", ["diff", "compare"])
def test_diff_and_compare_markdown_are_redacted_by_default(
    verb: str, hosts: Path, tmp_path: Path
) -> None:
    files = []
    for host in ("macos-14-m2pro", "macos-13-intel"):  # studio-mini.local, mbp-2019.local
        files.append(str(tmp_path / f"{host}.json"))
        code, text = _cli("capture", "--replay", str(hosts / host), "--no-sign", "-o", files[-1])
        assert code == 0, text
    extra = ["--all"] if verb == "diff" else []
    code, text = _cli(verb, "--markdown", *extra, *files)
    assert code == 0, text
    assert "redacted:" in text
    assert "studio-mini" not in text and "mbp-2019" not in text
    assert "/Users/bench" not in text and "~/.cache/llama.cpp" in text  # LLAMA_CACHE differs
    code, text = _cli(verb, "--markdown", "--no-redact", *extra, *files)
    assert code == 0 and "studio-mini" in text and "/Users/bench" in text


def test_check_markdown_is_redacted_by_default_and_gates_on_the_real_values(
    hosts: Path, tmp_path: Path
) -> None:
    """``check --markdown`` is pasted into CI logs and pull requests like diff's: redacted
    unless --no-redact; --fail-on still judges what was captured, not the redacted view."""
    baseline = str(tmp_path / "baseline.json")  # mbp-2019.local
    code, text = _cli("capture", "--replay", str(hosts / "macos-13-intel"), "--no-sign",
                      "-o", baseline)  # fmt: skip
    assert code == 0, text
    now = ("--replay", str(hosts / "macos-14-m2pro"))  # studio-mini.local
    code, text = _cli("check", baseline, *now, "--markdown", "--all")
    assert code == 0, text
    assert "redacted:" in text
    assert "studio-mini" not in text and "mbp-2019" not in text
    assert "/Users/bench" not in text and "~/.cache/llama.cpp" in text  # LLAMA_CACHE differs
    code, text = _cli("check", baseline, *now, "--markdown", "--all", "--no-redact")
    assert code == 0 and "studio-mini" in text and "/Users/bench" in text
    # the same gate either way: the two machines differ at high impact
    for shown in ((), ("--no-redact",)):
        code, text = _cli("check", baseline, *now, "--markdown", *shown, "--fail-on", "high")
        assert code == 1 and "at or above high" in text
