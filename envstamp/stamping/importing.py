"""Other harnesses' measurements as stamped results: ``envstamp import``.

A result file of another benchmark harness becomes results of a results log, stamped with
the manifest of the machine that imports it - so import on the machine that ran the
benchmark, right after it ran (the manifest says what the machine is now).  Each result says
where it came from (``origin="import:<format>"``) and keeps the harness's own date.

Formats: ``vllm-bench`` (``vllm bench serve --save-result`` / ``--append-result`` files)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from envstamp.errors import InputError, ParseError

if TYPE_CHECKING:
    from envstamp.parsers.vllm_bench import VllmBenchRun
    from envstamp.stamping.results import Result
    from envstamp.stamping.timing import Recorder

FORMATS = ("vllm-bench",)
VLLM_RESULT_NAME = "vllm bench serve"


@attrs.frozen
class Imported:
    """What an import appended."""

    path: str
    results: int
    failed: int


def import_files(files: Sequence[str], recorder: Recorder, *, fmt: str = "vllm-bench") -> Imported:
    """Append the results of each file to ``recorder``'s log; refuse (naming the file) a
    file that is not of ``fmt`` before anything is appended."""
    if fmt not in FORMATS:
        raise InputError(f"unknown import format {fmt!r}; known: {', '.join(FORMATS)}")
    runs = [(name, run) for name in files for run in _vllm_runs(name)]
    for _, run in runs:
        record_vllm_run(recorder, run)
    return Imported(
        path=str(recorder.path),
        results=len(runs),
        failed=sum(1 for _, run in runs if run.all_failed),
    )


def record_vllm_run(recorder: Recorder, run: VllmBenchRun) -> None:
    """One run as one result: vLLM's settings as parameters, its numbers as metrics under
    vLLM's names (request/output/total token throughput, mean/median/std/p99 of TTFT, TPOT,
    ITL in ms, completed, failed, duration); a run where no request completed is failed."""
    recorder.add(vllm_result(recorder, run, origin="import:vllm-bench"))


def vllm_result(recorder: Recorder, run: VllmBenchRun, *, origin: str, **extra: Any) -> Result:
    """The result of one vLLM run, not yet recorded (``envstamp run`` gives it the command's
    fields in ``extra``: command line, exit status, readings).  Failed when no request
    completed, or when ``extra`` says the measurement failed."""
    failed = bool(extra.pop("failed", False)) or run.all_failed
    return recorder.make_result(
        VLLM_RESULT_NAME,
        origin=origin,
        params=run.settings,
        metrics=run.metrics,
        wall_s=[],
        failed=failed,
        **extra,
    )


def _vllm_runs(name: str) -> list[VllmBenchRun]:
    from envstamp.parsers.vllm_bench import parse_vllm_bench_result

    try:
        text = Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: cannot read it ({exc})") from None
    try:
        return parse_vllm_bench_result(text)
    except ParseError as exc:
        raise InputError(f"{name}: {exc}") from None
