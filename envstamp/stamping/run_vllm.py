"""``envstamp run -- vllm bench serve ... --save-result``: the result file vLLM wrote becomes
the benchmark's own results (``origin="run:vllm-bench"``), ahead of the command's.

vLLM writes its result (``--save-result``, or ``--append-result`` to add a line to a file)
to ``--result-filename`` inside ``--result-dir`` when given, else under a name of its own
(label, request rate, concurrency, model, time) in the result folder or the current one.
So before the command runs the files it may write are noted (size and modification time);
after it, the named file, or each ``*.json`` of that folder that is new or changed, is read,
and what :func:`~envstamp.parsers.vllm_bench.parse_vllm_bench_result` accepts is kept: of a
file appended to, only what was added.  Files are asked of the runner; the arguments are read
by structure (``--flag X``, ``--flag=X``, and vLLM's ``--flag_name`` spelling)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import attrs

from envstamp.stamping.run_argv import is_python_name, python_module, tool_name

if TYPE_CHECKING:
    from envstamp.parsers.vllm_bench import VllmBenchRun
    from envstamp.runner import Runner
    from envstamp.stamping.results import Result
    from envstamp.stamping.timing import Recorder

ORIGIN = "run:vllm-bench"
# vLLM's benchmark script before `vllm bench serve` (benchmarks/ in its repository): the same
# arguments, the same result file.
_LEGACY_SCRIPT = "benchmark_serving.py"
# A result file larger than this is not read (with --save-detailed a file holds every
# generated text; the result envstamp keeps is a few hundred bytes of it).
MAX_RESULT_BYTES = 64 << 20
_SUFFIX = ".json"


@attrs.frozen
class ResultArgs:
    """Where ``vllm bench serve``'s arguments say its result goes."""

    directory: str | None  # --result-dir
    filename: str | None  # --result-filename (joined to the folder as os.path.join does)
    append: bool  # --append-result: a line added to the file
    save: bool  # --save-result or --append-result: a result file is expected

    @property
    def path(self) -> str | None:
        """The file named, as vLLM opens it (an absolute name ignores the folder)."""
        if self.filename is None:
            return None
        return str(PurePath(self.directory or "", self.filename))


def bench_serve_args(argv: Sequence[str]) -> list[str] | None:
    """The arguments of ``vllm bench serve ARGS``, ``python -m vllm... bench serve ARGS`` or
    ``python .../benchmark_serving.py ARGS``; None for any other command."""
    if tool_name(argv[0]) == "vllm":
        return _after_bench_serve(list(argv[1:]))
    if not is_python_name(argv[0]):
        return None
    found = python_module(argv)
    if found is not None:
        module, args = found
        return _after_bench_serve(args) if module.split(".")[0] == "vllm" else None
    script = _python_script(argv)
    if script is not None and tool_name(argv[script]) == _LEGACY_SCRIPT:
        return list(argv[script + 1 :])
    return None


def _after_bench_serve(words: list[str]) -> list[str] | None:
    return words[2:] if words[:2] == ["bench", "serve"] else None


def _python_script(argv: Sequence[str]) -> int | None:
    """Where the script is in ``python [options] SCRIPT ARGS``: the first word that is not an
    option (None when the interpreter runs code, a module or stdin instead)."""
    for index, word in enumerate(argv[1:], 1):
        if word in ("-c", "-m", "-") or word.startswith(("-c", "-m")):
            return None
        if not word.startswith("-"):
            return index
    return None


def result_args(args: Sequence[str]) -> ResultArgs:
    """The result options among ``vllm bench serve``'s arguments (the last one given wins,
    as argparse takes it)."""
    values: dict[str, str] = {}
    flags: set[str] = set()
    index = 0
    while index < len(args):
        name, eq, value = args[index].partition("=")
        name = _flag(name)
        if name in ("--result-dir", "--result-filename"):
            if eq:
                values[name] = value
            elif index + 1 < len(args) and not args[index + 1].startswith("-"):
                # (argparse does not take a word that looks like an option as a value)
                values[name] = args[index + 1]
                index += 1
        elif name in ("--save-result", "--append-result") and not eq:
            flags.add(name)
        index += 1
    return ResultArgs(
        directory=values.get("--result-dir"),
        filename=values.get("--result-filename"),
        append="--append-result" in flags,
        save=bool(flags),
    )


def _flag(word: str) -> str:
    """vLLM's parser takes ``--result_dir`` for ``--result-dir``."""
    return "--" + word[2:].replace("_", "-") if word.startswith("--") else word


# ------------------------------------------------------------------------ the files


@attrs.frozen
class Seen:
    """A file as it was before the command ran."""

    size: int | None
    mtime_ns: int | None


@attrs.frozen
class Found:
    """The runs read from the files the command wrote, and what could not be read."""

    runs: list[tuple[str, VllmBenchRun]]  # (file, run), in the order they were written
    notes: list[str]  # one line each: a named file not written, a file not a result...


@attrs.define
class Watch:
    """The result files a ``vllm bench serve`` command may write, noted before it runs."""

    where: ResultArgs
    before: dict[str, Seen]

    def found(self, runner: Runner, keep: int) -> Found:
        """The runs written since the watch began: the last ``keep`` of them (warm-up runs
        write their results first; a later one replaces a named file unless appending)."""
        notes: list[str] = []
        runs: list[tuple[int, str, VllmBenchRun]] = []
        for path, now in self._changed(runner):
            read = self._read(runner, path, now, notes)
            runs += [(now.mtime_ns or 0, path, run) for run in read]
        named = self.where.path
        wrote = any(path == named for _, path, _ in runs)
        if named is not None and self.where.save and not wrote and not notes:
            notes.append(f"vllm bench serve wrote no result to {named}")
        runs.sort(key=lambda found: (found[0], found[1]))  # stable: a file's runs in order
        kept = runs[-keep:] if keep > 0 else []
        return Found(runs=[(path, run) for _, path, run in kept], notes=notes)

    def _changed(self, runner: Runner) -> list[tuple[str, Seen]]:
        changed = []
        for path in _candidates(runner, self.where):
            info = runner.stat(path)
            if not info.is_regular:
                continue
            now = Seen(size=info.size, mtime_ns=info.mtime_ns)
            if self.before.get(path) != now:
                changed.append((path, now))
        return changed

    def _read(self, runner: Runner, path: str, now: Seen, notes: list[str]) -> list[Any]:
        from envstamp.errors import ParseError
        from envstamp.parsers.vllm_bench import parse_vllm_bench_result

        named = path == self.where.path
        start = self._appended_from(path, now)
        size = now.size or 0
        if size - start > MAX_RESULT_BYTES:
            notes.append(f"{path}: {size - start} bytes, more than a result file holds: not read")
            return []
        data = runner.read_bytes(path, start, size - start)
        if data is None:
            notes.append(f"{path}: could not be read")
            return []
        try:
            return parse_vllm_bench_result(data.decode("utf-8", errors="replace"))
        except ParseError as exc:
            if named:  # a file found by its folder may be anything: only the named one counts
                notes.append(f"{path}: not a vllm bench serve result ({exc})")
            return []

    def _appended_from(self, path: str, now: Seen) -> int:
        """Where what this command appended begins: the size the file had, when appending to
        a file that did not shrink; else 0 (the whole file is new)."""
        old = self.before.get(path)
        if not self.where.append or old is None or old.size is None:
            return 0
        return old.size if now.size is not None and now.size >= old.size else 0


def watch(argv: Sequence[str], runner: Runner) -> Watch | None:
    """Note the files a ``vllm bench serve`` command may write; None for another command."""
    args = bench_serve_args(argv)
    if args is None:
        return None
    where = result_args(args)
    before = {}
    for path in _candidates(runner, where):
        info = runner.stat(path)
        if info.is_regular:
            before[path] = Seen(size=info.size, mtime_ns=info.mtime_ns)
    return Watch(where=where, before=before)


def _candidates(runner: Runner, where: ResultArgs) -> list[str]:
    """The named file, or the ``*.json`` files of the result folder (the current one by
    default, as vLLM writes there)."""
    if where.path is not None:
        return [where.path]
    folder = where.directory or ""
    names = runner.list_dir(folder or ".") or []
    return [str(PurePath(folder, name)) for name in names if name.endswith(_SUFFIX)]


# ---------------------------------------------------------------------------- results


def vllm_results(
    rec: Recorder, found: Found, common: Mapping[str, Any]
) -> list[Result]:
    """One result per run read (``run:vllm-bench``), with the command's fields (``common``:
    its command line, exit status, state readings...); a run in which no request completed
    is failed, as is every run of a command that failed."""
    from envstamp.stamping.importing import vllm_result

    return [vllm_result(rec, run, origin=ORIGIN, **common) for _, run in found.runs]


def summary_line(found: Found) -> str:
    """ "read 1 vllm bench serve run from out/qwen.json (output 614.6 tok/s, 4.801 req/s)":
    which file the results came from, so a reader can find it again."""
    from envstamp.stamping.advice import count

    if not found.runs:
        return ""
    files = sorted({path for path, _ in found.runs})
    last = found.runs[-1][1].metrics
    speeds = [
        f"{label}{last[key]:.4g} {unit}"
        for key, label, unit in (
            ("output_throughput", "output ", "tok/s"),
            ("request_throughput", "", "req/s"),
        )
        if key in last
    ]
    tail = f" ({', '.join(speeds)}{' in the last' if len(found.runs) > 1 else ''})"
    return (
        f"read {count(len(found.runs), 'vllm bench serve run')} from {', '.join(files)}"
        f"{tail if speeds else ''}"
    )
