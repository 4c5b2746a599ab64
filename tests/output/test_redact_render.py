"""Shareable output (redaction) and the human summaries."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from envstamp.manifest.model import (
    Cpu,
    Gpu,
    Host,
    LlamaCppBuild,
    Manifest,
    ModelFile,
    OperatingSystem,
    Power,
    PythonInfo,
)
from envstamp.manifest.redact import redact, redact_text
from envstamp.manifest.serialize import identity_digest, to_json, with_digest
from envstamp.output import render

UUID = "GPU-513536b6-7d19-9063-b049-1e69664bb298"


def _manifest() -> Manifest:
    return with_digest(
        Manifest(
            envstamp_version="0.1.0",
            captured_at="2026-11-27T10:00:00Z",
            host=Host(hostname="alice-workstation", machine_id="ab" * 32, model="MS-7D70"),
            os=OperatingSystem(system="Linux", distro_pretty="Ubuntu 24.04.1 LTS", kernel="6.8.0"),
            cpu=Cpu(
                model_name="AMD Ryzen 9 7950X", physical_cores=16, logical_cpus=32, isa=["avx2"]
            ),
            gpus=[
                Gpu(
                    index=0,
                    vendor="nvidia",
                    name="NVIDIA GeForce RTX 4090",
                    uuid=UUID,
                    serial="1650522003820",
                    memory_total_mib=24564,
                    driver_version="560.35.03",
                    cuda_version="12.6",
                    power_limit_w=450.0,
                    pcie_gen_max=4,
                    pcie_width_max=16,
                    pcie_gen_current=1,
                    pcie_width_current=16,
                )
            ],
            llamacpp=[
                LlamaCppBuild(path="/home/alice/llama.cpp/build/bin/llama-cli", build_number=4120)
            ],
            models=[
                ModelFile(path="/home/alice/models/llama-3-8b.Q4_K_M.gguf", quantization="Q4_K_M")
            ],
            python=PythonInfo(executable="/home/alice/.venv/bin/python", version="3.12.3"),
            env={"CUDA_VISIBLE_DEVICES": UUID, "OLLAMA_HOST": "alice-workstation:11434"},
            power=Power(ac_online=False, battery_percent=54.0),
        )
    )


def test_redaction_removes_identifying_values() -> None:
    original = _manifest()
    text = to_json(redact(original))
    for secret in ("alice", "1650522003820", "513536b6", "ab" * 32):
        assert secret not in text
    shown = redact(original)
    assert shown.host.hostname and shown.host.hostname.startswith("redacted:")
    assert shown.llamacpp[0].path == "~/llama.cpp/build/bin/llama-cli"
    assert shown.gpus[0].name == "NVIDIA GeForce RTX 4090"  # hardware stays
    assert shown.identity_digest == identity_digest(shown)


def test_redaction_is_stable_per_machine() -> None:
    assert to_json(redact(_manifest())) == to_json(redact(_manifest()))


def test_redact_text_macs_and_windows_homes() -> None:
    out = redact_text(r"eth0 00:1a:2b:3c:4d:5e at C:\Users\Bob\models\x.gguf", "salt")
    assert "00:1a" not in out and "Bob" not in out
    assert r"~\models\x.gguf" in out


@given(st.text())
def test_redact_text_is_total(text: str) -> None:
    assert isinstance(redact_text(text, "salt", "host"), str)


def test_text_summary_has_one_line_per_gpu() -> None:
    text = render.to_text(_manifest())
    gpu_lines = [line for line in text.splitlines() if "GPU 0" in line]
    assert len(gpu_lines) == 1
    line = gpu_lines[0]
    for part in (
        "RTX 4090",
        "24.0 GiB",
        "driver 560.35.03",
        "CUDA 12.6",
        "450 W",
        "PCIe 4x16 (now 1x16)",
    ):
        assert part in line
    assert "ON BATTERY" in text


def test_markdown_is_a_table() -> None:
    md = render.to_markdown(_manifest(), note="plain manifest (unsigned)")
    lines = md.splitlines()
    assert lines[2:4] == ["| | |", "|---|---|"]
    assert all(line.startswith("| ") for line in lines[4:])


def test_summary_of_an_empty_manifest() -> None:
    empty = with_digest(Manifest(envstamp_version="0.1.0", captured_at="2026-11-27T10:00:00Z"))
    text = render.to_text(empty)
    assert "GPU" in text and "none found" in text
    assert "False" not in text and "None" not in text


def test_human_bytes() -> None:
    assert render.human_bytes(None) is None
    assert render.human_bytes(512) == "512 B"
    assert render.human_bytes(25769803776) == "24.0 GiB"
    assert json.dumps(render.human_bytes(1 << 50)) == '"1024.0 TiB"'
