"""Every Python and shell example in README.md and docs/*.md runs (issue 11 item 6).

The fenced blocks tagged ``python``, ``sh``/``bash``/``shell`` and ``console`` are collected
from each page and run in order, as a reader would run them one after another: in one fresh
folder per page, with one Python namespace per page, ``envstamp`` on ``PATH`` and a private
key folder.  An example that raises (Python) or exits non-zero (shell) fails the test, named
by page and line.  ``console`` blocks are transcripts: each ``$ `` line runs, must exit 0,
unless the transcript shows ``$ echo $?`` after it, whose printed status it must then match.

What an example assumes a reader has is given to it here, each thing said to be a stand-in:

* files it names: tiny real GGUF models under the names the examples use (made by
  ``scripts/make-tiny-gguf``), a signed ``box.json`` and its public key, manifests and results
  logs of recorded hosts for the diff pages, a real ``nvidia-smi -q -x`` output, a llama.cpp
  build folder (a real ``CMakeCache.txt``);
* commands a CI box lacks: ``llama-bench`` and ``llama-cli`` are stub scripts that print what
  a real build printed (``tests/fixtures/llamacpp-real/b5308-8733e0cf6``); ``ollama`` is a stub
  that prints ``ollama run --verbose``'s statistics in their documented format;
* Python names an example uses as "your code": ``run_prompt``, ``generate``, ``agenerate``,
  ``client``.

A block that cannot run anywhere (it installs envstamp, needs cosign...) carries a visible
``<!-- no-run: reason -->`` line right above its fence; those stay few (the last test counts
them).  Indented code blocks are refused: they have no language, so they could not be run.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
REAL = ROOT / "tests" / "fixtures" / "llamacpp-real" / "b5308-8733e0cf6"
HOSTS = ROOT / "tests" / "fixtures" / "hosts"
LANGUAGES = {
    "python": "python",
    "py": "python",
    "sh": "shell",
    "bash": "shell",
    "shell": "shell",
    "console": "console",
}
MOST_NO_RUN = 10  # exceptions stay few: installs, the suite itself, builds, cosign, menus
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([\w+-]*)")
_NO_RUN = re.compile(r"^\s*<!--\s*no-run:\s*(.+?)\s*-->\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


@dataclass(frozen=True)
class Example:
    """One fenced block of a page."""

    page: Path
    line: int  # of the opening fence, 1-based
    language: str  # "python", "shell" or "console"
    text: str
    no_run: str | None  # the reason given in a no-run comment

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples(page: Path, text: str | None = None) -> list[Example]:
    """The runnable fenced blocks of a Markdown page, in order."""
    lines = (page.read_text(encoding="utf-8") if text is None else text).splitlines()
    found: list[Example] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        marker, info = fence.group(2), fence.group(3).lower()
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(marker):
            end += 1
        if info in LANGUAGES:
            before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            reason = _NO_RUN.match(before)
            body = "\n".join(line[len(fence.group(1)) :] for line in lines[i + 1 : end])
            found.append(
                Example(page, i + 1, LANGUAGES[info], body + "\n", reason and reason.group(1))
            )
        i = end + 1
    return found


def indented_code_blocks(text: str) -> list[int]:
    """Lines starting an indented code block (CommonMark: 4 spaces after a blank line, not
    inside a list item or a fence): such a block has no language, so it cannot be run."""
    starts: list[int] = []
    lines = text.splitlines()
    in_fence: str | None = None
    in_list = False
    for number, line in enumerate(lines, 1):
        fence = _FENCE.match(line)
        if in_fence is not None:
            if line.strip().startswith(in_fence):
                in_fence = None
            continue
        if fence is not None:
            in_fence = fence.group(2)
            continue
        if not line.strip():
            continue
        if _LIST_ITEM.match(line):
            in_list = True
            continue
        indented = line.startswith("    ") or line.startswith("\t")
        if not indented:
            in_list = False
            continue
        previous = lines[number - 2] if number >= 2 else ""
        if not in_list and not previous.strip():
            starts.append(number)
    return starts


ALL = [example for page in PAGES for example in examples(page)]


# ---------------------------------------------------------------------- what a reader has

STUB_HEADER = (
    "#!/bin/sh\n# A stand-in written by tests/e2e/test_docs_examples.py, not the real tool.\n"
)


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(STUB_HEADER + body, encoding="utf-8")
    path.chmod(0o755)


def _stubs(folder: Path) -> None:
    """llama-bench / llama-cli print what a real build printed; ollama its documented stats."""
    version = REAL / "version.txt"
    for name, output in (("llama-bench", REAL / "bench.md"), ("llama-cli", REAL / "cli.txt")):
        _stub(
            folder,
            name,
            f'case "$1" in --version) cat "{version}";; *) cat "{output}";; esac\n',
        )
    _stub(
        folder,
        "ollama",
        'case "$1" in\n'
        '  --version) echo "Warning: client version is 0.11.10" >&2;;\n'
        '  run) echo "The sky is blue because of Rayleigh scattering."\n'
        "       cat >&2 <<'EOF'\n"
        "total duration:       1.512s\n"
        "load duration:        20.1ms\n"
        "prompt eval count:    15 token(s)\n"
        "prompt eval duration: 61.1ms\n"
        "prompt eval rate:     245.50 tokens/s\n"
        "eval count:           128 token(s)\n"
        "eval duration:        1.4s\n"
        "eval rate:            91.43 tokens/s\n"
        "EOF\n"
        "  ;;\n"
        '  *) echo "ollama stand-in: $1 is not stood in for" >&2; exit 2;;\n'
        "esac\n",
    )


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (tiny, random-weight) GGUF model, made once for this module."""
    path = tmp_path_factory.mktemp("model") / "tiny.gguf"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-tiny-gguf"), str(path)],
        check=True,
        capture_output=True,
    )
    return path


class Session:
    """One page's reader: a folder, a shell environment, a Python namespace."""

    def __init__(self, folder: Path, model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.monkeypatch = monkeypatch
        self.home = folder / "home"
        stubs = folder / ".stubs"
        for made in (self.home, stubs):
            made.mkdir()
        _stubs(stubs)
        monkeypatch.chdir(folder)
        monkeypatch.setenv("HOME", str(self.home))
        bin_dir = str(Path(sys.executable).parent)  # envstamp and pytest of this install
        monkeypatch.setenv("PATH", os.pathsep.join([str(stubs), bin_dir, os.environ["PATH"]]))
        for name in ("model.gguf", "qwen2-7b-q4_k_m.gguf", "llama-3-8b.Q4_K_M.gguf"):
            shutil.copy(model, folder / name)
        (self.home / "models").mkdir()
        shutil.copy(model, self.home / "models" / "llama-3-8b.Q4_K_M.gguf")
        build = self.home / "src" / "llama.cpp" / "build"
        build.mkdir(parents=True)
        shutil.copy(REAL / "CMakeCache.txt", build / "CMakeCache.txt")
        shutil.copy(ROOT / "tests" / "fixtures" / "nvidia" / "h100-610-q-x.xml", "smi.xml")
        (folder / "test_example.py").write_text("def test_example():\n    assert 1 + 1 == 2\n")
        self.namespace: dict[str, Any] = {"__name__": "__docs__", **_your_code()}
        self.done: list[Example] = []

    def envstamp(self, *args: str) -> str:
        """Run the envstamp command (setting up what a page's reader already has)."""
        done = subprocess.run(
            ["envstamp", *args], capture_output=True, text=True, check=False, timeout=120
        )
        assert done.returncode == 0, f"envstamp {' '.join(args)}: {done.stderr[-2000:]}"
        return done.stdout

    def run(self, example: Example) -> None:
        for text, prepare in BEFORE:
            if text in example.text:
                prepare(self)
        {"python": self._python, "shell": self._shell, "console": self._console}[
            example.language
        ](example)
        self.done.append(example)

    def _python(self, example: Example) -> None:
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        code = compile(example.text, example.where, "exec", flags=flags, dont_inherit=True)
        if code.co_flags & inspect.CO_COROUTINE:
            asyncio.run(eval(code, self.namespace))
        else:
            exec(code, self.namespace)

    def _shell(self, example: Example) -> None:
        done = _bash(["-e", "-o", "pipefail", "-c", example.text])
        assert done.returncode == 0, f"{example.where} exited {done.returncode}:\n{_tail(done)}"

    def _console(self, example: Example) -> None:
        lines = example.text.splitlines()
        commands = [(i, line[2:]) for i, line in enumerate(lines) if line.startswith("$ ")]
        status: int | None = None
        for n, (i, command) in enumerate(commands):
            if command.strip() == "echo $?":
                shown = lines[i + 1].strip() if i + 1 < len(lines) else ""
                assert str(status) == shown, f"{example.where}: status {status}, shows {shown}"
                continue
            done = _bash(["-c", command])
            status = done.returncode
            checked = n + 1 < len(commands) and commands[n + 1][1].strip() == "echo $?"
            assert checked or status == 0, f"{example.where}: `{command}` exited {status}:\n" + (
                _tail(done)
            )


def _bash(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", *args], capture_output=True, text=True, check=False, timeout=300
    )


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stdout + done.stderr)[-3000:]


def _your_code() -> dict[str, Any]:
    """Stand-ins for the reader's own code that the examples call."""

    def run_prompt() -> None:
        sum(range(10_000))

    def generate(n: int) -> str:
        return "x" * n

    async def agenerate(n: int) -> str:
        await asyncio.sleep(0)
        return "x" * n

    class Client:
        async def generate(self, *args: object, **kwargs: object) -> None:
            await asyncio.sleep(0)

    return {"run_prompt": run_prompt, "generate": generate, "agenerate": agenerate,
            "client": Client()}


# ------------------------------------------------------------------- per-page preparation


def _signed_box(session: Session) -> None:
    """A signed manifest and the signer's public key, under the names signing.md uses."""
    session.envstamp("capture", "-o", "box.json")
    for name in ("signer.pem", "alice.pem"):
        session.envstamp("pubkey", "-o", name)


def _p256_box(session: Session) -> None:
    """The reader's envelope is signed with a P-256 key now: re-sign it, prepare again."""
    session.envstamp("keygen", "--algorithm", "ecdsa-p256", "-o", "p256.pem")
    session.envstamp("capture", "--key", "p256.pem", "-o", "box.json")
    session.envstamp("pubkey", "--key", "p256.pem", "-o", "signer.pem")
    prepare = next(e for e in session.done if "jq -r .payload box.json" in e.text)
    session._shell(prepare)


def _ci_secret(session: Session) -> None:
    """A CI key pair: the private key as the secret store's variable, the public key file."""
    session.envstamp("keygen", "-o", "ci.pem")
    session.monkeypatch.setenv("SIGNING_KEY_PEM", Path("ci.pem").read_text())


GPU_HOST = ["real-h200-580", "linux-debian12-vm"]  # an H200 host's GPUs over a Linux VM


def _host_manifest(hosts: list[str]) -> Any:
    from envstamp import capture

    return capture(replay=[str(HOSTS / host) for host in hosts], refresh=True)


def _manifests(session: Session) -> None:
    """Manifests of recorded machines under the names the diff examples use."""
    from envstamp.manifest.serialize import to_json

    for hosts, out in (
        (["linux-debian12-vm"], "mine.json"),
        (GPU_HOST, "theirs.json"),
        (["linux-debian12-vm"], "week1.json"),
        (["linux-ubuntu22-graviton3"], "week2.json"),
        (["macos-14-m2pro"], "week3.json"),
        (GPU_HOST, "baseline.json"),
    ):
        Path(out).write_text(to_json(_host_manifest(hosts)), encoding="utf-8")


def _results_log(out: str, hosts: list[str], speed: float) -> None:
    import envstamp

    with envstamp.Recorder(out, manifest=_host_manifest(hosts), advice=False) as rec:
        for lap in range(3):
            rec.record("tg128", metrics={"tokens_per_s": speed + lap / 10})


def _results_logs(session: Session) -> None:
    """Two results logs measured under different machines (recorded hosts' manifests)."""
    _results_log("mine.jsonl", ["linux-debian12-vm"], 98.2)
    _results_log("theirs.jsonl", GPU_HOST, 131.6)


def _signing_files(session: Session) -> None:
    """What signing.md's verify examples name: a results log with its detached signature,
    box.json signed by a second key too (a.pem, b.pem: the two public keys)."""
    _results_log("results.jsonl", ["linux-debian12-vm"], 98.2)
    session.envstamp("sign", "results.jsonl")
    session.envstamp("keygen", "-o", "second.pem")
    session.envstamp("sign", "box.json", "--key", "second.pem")
    session.envstamp("pubkey", "-o", "a.pem")
    session.envstamp("pubkey", "--key", "second.pem", "-o", "b.pem")


def _recordings(session: Session) -> None:
    """The recording folders record-replay.md layers."""
    shutil.copytree(HOSTS / "real-h200-580", "gpu-host")
    shutil.copytree(HOSTS / "linux-debian12-vm", "base-linux")


PAGE_SETUP: dict[str, list[Callable[[Session], None]]] = {
    "README.md": [_manifests],
    "signing.md": [_signed_box, _signing_files, _ci_secret],
    "diff.md": [_manifests, _results_logs],
    "record-replay.md": [_recordings],
}
# (text in the block, what to prepare right before it)
BEFORE: list[tuple[str, Callable[[Session], None]]] = [
    ("openssl dgst -sha256 -verify signer.pem", _p256_box),
]


# ---------------------------------------------------------------------------------- tests


@pytest.fixture
def session(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Session]:
    from envstamp.stamping import timing

    open_before = set(timing._OPEN)  # the recorders the examples open are closed after them
    yield Session(tmp_path, tiny_model, monkeypatch)
    for recorder in set(timing._OPEN) - open_before:
        recorder.close()


RUN_PAGES = sorted({e.page for e in ALL if not e.no_run}, key=PAGES.index)


@pytest.mark.slow
@pytest.mark.parametrize("page", RUN_PAGES, ids=[page.name for page in RUN_PAGES])
def test_page_examples_run(page: Path, session: Session) -> None:
    if page.name == "signing.md" and not (shutil.which("jq") and shutil.which("openssl")):
        pytest.skip("signing.md's shell examples need jq and openssl on PATH")
    for prepare in PAGE_SETUP.get(page.name, []):
        prepare(session)
    for example in examples(page):
        if example.no_run is None:
            session.run(example)
    assert session.done, f"{page.name}: no example ran"


def test_pages_have_no_indented_code_blocks() -> None:
    """Indented blocks have no language, so no test could run them: fence them instead."""
    found = {
        str(page.relative_to(ROOT)): starts
        for page in PAGES
        if (starts := indented_code_blocks(page.read_text(encoding="utf-8")))
    }
    assert found == {}, f"indented code blocks (write them as ```sh / ```python): {found}"


def test_exceptions_are_few_and_say_why() -> None:
    skipped = [e for e in ALL if e.no_run]
    assert len(skipped) <= MOST_NO_RUN, [e.where for e in skipped]
    assert all(len(e.no_run or "") >= 10 for e in skipped)
    assert len([e for e in ALL if not e.no_run]) >= 20  # the docs' examples are collected


# --------------------------------------------------------------- the collector and runner

PAGE = """\
# A page

<!-- no-run: needs llama-bench on a GPU -->
```sh
llama-bench -m big.gguf
```

    indented command

- a list item

    its continuation

```python
value = 1
```

```console
$ false
$ echo $?
1
```

```json
{"not": "run"}
```
"""


def test_collector_reads_languages_and_reasons() -> None:
    found = examples(ROOT / "x.md", PAGE)
    assert [(e.language, e.line, e.no_run) for e in found] == [
        ("shell", 4, "needs llama-bench on a GPU"),
        ("python", 14, None),
        ("console", 18, None),
    ]
    assert found[1].text == "value = 1\n"
    assert indented_code_blocks(PAGE) == [8]  # the list's continuation is not a code block


def test_a_raising_example_fails(session: Session) -> None:
    def run(language: str, text: str) -> None:
        session.run(Example(ROOT / "x.md", 1, language, text, None))

    run("python", "answer = 41 + 1\n")
    run("python", "import asyncio\nawait asyncio.sleep(0)\nassert answer == 42\n")
    with pytest.raises(ZeroDivisionError):
        run("python", "1 / 0\n")
    with pytest.raises(AssertionError, match="exited 3"):
        run("shell", "true\n(exit 3)\necho never\n")
    with pytest.raises(AssertionError, match="exited 1"):
        run("console", "$ false\n")
    run("console", "$ false\n$ echo $?\n1\n")  # a transcript that shows the failure
    with pytest.raises(AssertionError, match="status 1, shows 0"):
        run("console", "$ false\n$ echo $?\n0\n")


def test_stubs_say_they_are_stand_ins(session: Session) -> None:
    out = subprocess.run(
        ["llama-bench", "-m", "model.gguf"], capture_output=True, text=True, check=True
    )
    assert out.stdout == (REAL / "bench.md").read_text()  # what the real build printed
    script = Path(shutil.which("ollama") or "").read_text()
    assert "stand-in" in script and "not the real tool" in script
    json.loads(session.envstamp("parse", "llama-bench", str(REAL / "bench.md")))


# ------------------------------------------------------- examples hold on every machine

# Issue 15: an example written on a GPU box (manifest.gpus[0]) raised IndexError elsewhere.
# The Python examples of the pages that capture run again on a recorded machine without a
# GPU and on one with a GPU, whatever machine runs this test.
MACHINES = {"no-gpu": ["linux-debian12-vm"], "gpu": GPU_HOST}
CAPTURING_PAGES = ["README.md", "quickstart.md", "stamping.md"]
_INDEXED_LIST = re.compile(r"\.(?:gpus|llamacpp|models|devices|runtimes|engines)\[-?\d+\]")


@pytest.mark.slow
@pytest.mark.parametrize("machine", list(MACHINES))
def test_python_examples_hold_with_and_without_a_gpu(
    machine: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import envstamp
    from envstamp.capturing import capture as capturing

    real = capturing.capture
    replay = [str(HOSTS / host) for host in MACHINES[machine]]

    def on_machine(options: Any = None, **values: Any) -> Any:
        values.update(replay=replay, refresh=True)
        return real(options, **values)

    monkeypatch.setattr(capturing, "capture", on_machine)
    monkeypatch.setattr(envstamp, "capture", on_machine, raising=False)
    ran = []
    for name in CAPTURING_PAGES:
        page = ROOT / name if name == "README.md" else ROOT / "docs" / name
        session.namespace = {"__name__": "__docs__", **_your_code()}
        for example in examples(page):
            if example.language == "python" and example.no_run is None:
                session.run(example)
                ran.append(example.where)
        if name == "README.md":
            gpus = session.namespace["manifest"].gpus
            assert bool(gpus) is (machine == "gpu")  # the recorded machine was the one used
    assert len(ran) >= 6


def test_python_examples_never_index_a_list_that_may_be_empty() -> None:
    """gpus, llama.cpp builds, models, devices... are empty on some machine: an example
    loops over them (or checks first), never takes [0]."""
    found = [e.where for e in ALL if e.language == "python" and _INDEXED_LIST.search(e.text)]
    assert found == []
    assert _INDEXED_LIST.search("print(manifest.gpus[0].name)")  # the rule sees the old one
