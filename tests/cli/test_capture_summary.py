"""The capture summary says what was looked for (issue 15): "not found" lines for llama.cpp
and each frontend, the probes' line in words ("not asked" for a model nobody named), and
``capture -v`` listing every probe with its status, time, source and detail."""

from __future__ import annotations

import json
import re

import pytest

from envstamp.cli.main import main
from envstamp.manifest.model import (
    Frontends,
    KoboldCpp,
    LlamaCppBuild,
    Manifest,
    Ollama,
    ProbeRecord,
    PythonEngine,
)
from envstamp.output import probe_summary
from tests.conftest import HOSTS

VM = str(HOSTS / "linux-debian12-vm")


def _record(name: str, status: str, **fields: object) -> ProbeRecord:
    return ProbeRecord(name=name, status=status, **fields)  # type: ignore[arg-type]


def _manifest(*records: ProbeRecord, frontends: Frontends | None = None) -> Manifest:
    return Manifest(
        envstamp_version="0.1.0",
        captured_at="2026-12-06T08:00:00Z",
        frontends=frontends or Frontends(),
        probes=list(records),
    )


NOTHING_FOUND = (
    _record("llamacpp", "absent", source="PATH", duration_ms=0.152,
            detail="no llama-cli, llama-server or llama-bench on PATH"),
    _record("ollama", "absent", duration_ms=3.053, detail="ollama not on PATH"),
    _record("lmstudio", "absent", duration_ms=0.096),
    _record("jan", "absent", duration_ms=0.043, detail="no Jan app folder"),
    _record("engines", "absent", duration_ms=0.386),
    _record("models", "unsupported", duration_ms=0.006, detail="no model named (--model)"),
    _record("gpu_apple", "unsupported", duration_ms=0.0, detail="not applicable on Linux"),
    _record("cpu", "ok", source="/proc/cpuinfo", duration_ms=0.773),
)


def test_nothing_found_is_said_for_llama_cpp_and_every_frontend() -> None:
    manifest = _manifest(*NOTHING_FOUND)
    assert probe_summary.llama_not_found(manifest) == [
        ("llama.cpp", "not found (no llama-cli, llama-server or llama-bench on PATH)")
    ]
    assert probe_summary.frontends_not_found(manifest, any_shown=False) == [
        ("Frontends", "not found: Ollama, LM Studio, Jan, koboldcpp, llamafile, vLLM, "
                      "Python engines")
    ]


def test_the_probes_line_is_in_words_and_a_model_nobody_named_is_not_asked() -> None:
    assert probe_summary.probe_rows(_manifest(*NOTHING_FOUND)) == [
        ("Probes", "8: 1 ok, 5 found nothing, 1 not applicable, 1 not asked")
    ]


def test_some_found_some_not_and_a_failed_probe_is_not_known() -> None:
    frontends = Frontends(
        ollama=Ollama(server_version="0.4.7"),
        koboldcpp=KoboldCpp(version="1.82.1"),
        torch=PythonEngine(version="2.5.1"),
    )
    manifest = _manifest(
        _record("ollama", "ok"),
        _record("lmstudio", "timeout", detail="lms: no answer within 2 s"),
        _record("jan", "absent"),
        _record("engines", "ok"),
        frontends=frontends,
    )
    assert probe_summary.frontends_not_found(manifest, any_shown=True) == [
        ("", "not found: Jan, llamafile, vLLM"),
        ("", "not known: LM Studio (lmstudio probe timed out)"),
    ]
    assert probe_summary.probe_rows(manifest) == [
        ("Probes", "4: 2 ok, 1 found nothing, 1 timed out"),
        ("", "lmstudio: timed out (lms: no answer within 2 s)"),
    ]


def test_a_failed_llama_probe_is_not_known_and_a_found_build_needs_no_line() -> None:
    failed = _manifest(_record("llamacpp", "error", detail="boom"))
    assert probe_summary.llama_not_found(failed) == [
        ("llama.cpp", "not known: the probe error")
    ]
    found = _manifest(_record("llamacpp", "ok"))
    found.llamacpp = [LlamaCppBuild(path="/opt/llama.cpp/build/bin/llama-bench")]
    assert probe_summary.llama_not_found(found) == []


def test_no_records_no_lines() -> None:
    """A manifest without probe records cannot tell "not found" from "not looked for"."""
    manifest = _manifest()
    assert probe_summary.llama_not_found(manifest) == []
    assert probe_summary.frontends_not_found(manifest, any_shown=False) == []
    assert probe_summary.probe_rows(manifest) == []
    assert probe_summary.probe_listing(manifest) == "no probe records\n"


def test_the_listing_has_every_probe_status_time_source_and_why() -> None:
    listing = probe_summary.probe_listing(_manifest(*NOTHING_FOUND))
    assert listing == (
        "probes (8): name, status, time, source, detail\n"
        "  llamacpp   found nothing   0.2 ms  PATH  (no llama-cli, llama-server or llama-bench "
        "on PATH)\n"
        "  ollama     found nothing   3.1 ms  -  (ollama not on PATH)\n"
        "  lmstudio   found nothing   0.1 ms  -\n"
        "  jan        found nothing   0.0 ms  -  (no Jan app folder)\n"
        "  engines    found nothing   0.4 ms  -\n"
        "  models     not asked       0.0 ms  -  (no model named (--model))\n"
        "  gpu_apple  not applicable  0.0 ms  -  (not applicable on Linux)\n"
        "  cpu        ok              0.8 ms  /proc/cpuinfo\n"
    )


def _vm_probes(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    """The probe records of the recorded VM's capture (their number grows with the registry)."""
    assert main(["capture", "--replay", VM, "--json"]) == 0
    records: list[dict[str, object]] = json.loads(capsys.readouterr().out)["probes"]
    return records


def _row(lines: list[str], label: str) -> str:
    return next(line for line in lines if line.startswith(f"  {label} "))


def test_capture_summary_of_the_recorded_vm(capsys: pytest.CaptureFixture[str]) -> None:
    count = len(_vm_probes(capsys))
    assert main(["capture", "--replay", VM]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert _row(lines, "llama.cpp") == (
        "  llama.cpp  not found (no llama-cli, llama-server or llama-bench on PATH)"
    )
    # (a frontend probe added later may name one more at the end)
    assert _row(lines, "Frontends").startswith(
        "  Frontends  not found: Ollama, LM Studio, Jan, koboldcpp, llamafile, vLLM, "
        "Python engines"
    )
    assert re.fullmatch(
        rf"  Probes     {count}: \d+ ok, \d+ found nothing, \d+ not applicable, "
        r"(\d+ error, )?1 not asked",
        _row(lines, "Probes"),
    )
    assert "unsupported" not in "\n".join(lines)


_LISTED = re.compile(
    r"  (\S+) +(ok|found nothing|not applicable|not asked|error) +\d+\.\d ms  (.+)"
)


def test_capture_v_lists_every_probe_under_the_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    count = len(_vm_probes(capsys))
    assert main(["capture", "--replay", VM, "-v"]) == 0
    out = capsys.readouterr().out
    summary, listing = out.split("\n\n")
    assert _row(summary.splitlines(), "Probes").startswith(f"  Probes     {count}: ")
    head, *rows = listing.splitlines()
    assert head == f"probes ({count}): name, status, time, source, detail"
    matched = [_LISTED.fullmatch(row) for row in rows]
    assert all(matched), rows
    by_name = {m[1]: (m[2], m[3]) for m in matched if m}
    assert by_name["models"] == ("not asked", "-  (no model named (--model))")
    assert by_name["cpu"] == ("ok", "/proc/cpuinfo")
    assert by_name["llamacpp"] == (
        "found nothing", "PATH  (no llama-cli, llama-server or llama-bench on PATH)"
    )


def test_capture_v_with_json_lists_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capture", "--replay", VM, "--json", "-v"]) == 0
    captured = capsys.readouterr()
    count = len(json.loads(captured.out)["probes"])
    assert captured.err.startswith(f"probes ({count}): name, status, time, source, detail\n")


def test_capture_v_with_markdown_adds_a_text_block(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capture", "--replay", VM, "--markdown", "-v"]) == 0
    out = capsys.readouterr().out
    assert "| llama.cpp | not found (no llama-cli, llama-server or llama-bench on PATH) |" in out
    assert out.endswith("```\n") and "\n```text\nprobes (" in out


def test_every_frontend_of_the_model_is_looked_up() -> None:
    """A frontend added to the model gets its "not found" line: FRONTENDS names it."""
    import attrs

    python_engines = {"llama_cpp_python", "mlx", "mlx_lm", "exllamav2", "sglang",
                      "transformers", "torch"}
    fields = {f.name for f in attrs.fields(Frontends)} - python_engines
    listed = {field for _, _, field in probe_summary.FRONTENDS}
    assert fields <= listed, f"add {sorted(fields - listed)} to probe_summary.FRONTENDS"
