"""``envstamp bench``: the verb end to end against fake servers (the real one is in
tests/e2e/test_bench_e2e.py): its options, its table, its exit status, what it records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import envstamp
from envstamp.cli.main import main
from tests.benchclient import fake_server as fake
from tests.timing_support import make_manifest

QUICK = ["--connect-timeout", "1", "--first-byte-timeout", "1", "--stall-timeout", "0.3"]


@pytest.fixture
def no_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's capture replaced by a small manifest: these tests are about the bench."""
    import envstamp.capturing.capture as capturing

    monkeypatch.setattr(capturing, "capture", lambda *a, **k: make_manifest())


def test_a_bench_is_recorded_with_the_machines_capture(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    log = tmp_path / "r.jsonl"
    with fake.serving(fake.llama_routes(4)) as server:
        code = main(["bench", server.url, "-p", "8", "-n", "4", "-r", "2", "-w", "0",
                     "-o", str(log), "--no-state", *QUICK])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0].startswith("| test | c | ok | TTFT ms |")
    assert "| pp8+tg4 | 1 | 2/2 |" in out
    assert "llama-server, llama.cpp b6500 commit abcdef12, model models/fake.gguf" in err
    (result,) = envstamp.load_results(log)
    assert result.manifest is not None and result.manifest.cpu.model_name  # a real capture
    assert any(p.name == "bench_server" for p in result.manifest.probes)


@pytest.mark.usefixtures("no_capture")
def test_lists_and_repeats_make_every_test_at_every_level(tmp_path: Path) -> None:
    log = tmp_path / "r.jsonl"
    with fake.serving(fake.llama_routes(2)) as server:
        code = main(["bench", server.url, "-p", "8,16", "-p", "8", "-n", "2", "-r", "1",
                     "-w", "0", "-c", "1,2", "-o", str(log), "--no-state", *QUICK])
    assert code == 0
    names = [(r.name, r.params["concurrency"]) for r in envstamp.load_results(log)]
    assert names == [("pp8+tg2", 1), ("pp8+tg2", 2), ("pp16+tg2", 1), ("pp16+tg2", 2)]


@pytest.mark.usefixtures("no_capture")
def test_failed_requests_exit_1_and_are_recorded_failed(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    routes = fake.llama_routes(2)
    steps: list[Any] = [fake.head(200, "text/event-stream", chunked=True), 30.0]
    routes[("POST", "/completion")] = fake.fixed(steps)
    log = tmp_path / "r.jsonl"
    with fake.serving(routes) as server:
        code = main(["bench", server.url, "-p", "8", "-n", "2", "-r", "2", "-w", "0",
                     "-o", str(log), "--no-state", *QUICK])
    assert code == 1
    assert "2 request(s) failed" in capsys.readouterr().err
    results = envstamp.load_results(log, include_failed=True)
    assert [r.params["failure"] for r in results] == ["stall", "stall"]


def test_no_server_exits_2_and_records_nothing(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "r.jsonl"
    with fake.serving({}) as server:
        code = main(["bench", server.url, "-o", str(log), *QUICK])
    assert code == 2
    assert "--api" in capsys.readouterr().err
    assert not log.exists()


def test_a_remote_server_needs_allow_remote(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "http://192.0.2.1:8080", "-o", str(tmp_path / "r.jsonl"), *QUICK])
    assert code == 2 and "--allow-remote" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["-r", "0"], ["-c", "0"], ["-w", "-1"], ["-p", "a"],
                                  ["--timeout", "0"], ["--api", "grpc"], ["-n", "-3"]])
def test_impossible_options_are_one_line_errors(argv: list[str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["bench", "http://127.0.0.1:1", *argv])
    except SystemExit as exit_:  # argparse's own errors, as for every verb
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err


@pytest.mark.usefixtures("no_capture")
def test_a_recorded_bench_replays_to_the_same_figures(tmp_path: Path) -> None:
    with fake.serving(fake.ollama_routes(3)) as server:
        live = tmp_path / "live.jsonl"
        assert main(["bench", server.url, "-p", "8", "-n", "3", "-r", "2", "-w", "0",
                     "-o", str(live), "--no-state", "--raw", str(tmp_path / "raw"),
                     *QUICK]) == 0
    replayed = tmp_path / "replayed.jsonl"
    assert main(["bench", server.url, "-p", "8", "-n", "3", "-r", "2", "-w", "0",
                 "-o", str(replayed), "--no-state", "--replay", str(tmp_path / "raw"),
                 *QUICK]) == 0
    (one,), (two,) = envstamp.load_results(live), envstamp.load_results(replayed)
    assert {"ttft_ms", "server_prompt_ms", "server_tokens_per_s"} <= one.metric_samples.keys()
    assert one.metric_samples == two.metric_samples
    recorded = [json.loads(p.read_text()) for p in (tmp_path / "raw").glob("http_stream-*")]
    assert any(r["key"]["url"].endswith("/api/generate") for r in recorded)
