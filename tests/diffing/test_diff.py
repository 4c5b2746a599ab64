"""Manifest against manifest: planted differences of every category, ranking, matching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.capturing.capture import capture, forget_static
from envstamp.diffing import rules
from envstamp.diffing.differ import Difference, DiffReport, diff
from envstamp.documents import load_document
from envstamp.manifest.document import Document
from envstamp.manifest.model import Gpu, LlamaCppBuild, LmStudio, NamedVersion, ProbeRecord
from tests.diff_support import (
    OLDER,
    RENDER_NODE,
    WORKSTATION,
    Edit,
    base,
    edit,
    edit_build,
    edit_gpu,
    edit_volatile_gpu,
    load,
)

HOSTS = Path(__file__).parents[1] / "fixtures" / "hosts"


def entry(report: DiffReport, path: str, *, state: bool = False) -> Difference:
    pool = report.state if state else report.differences
    found = [d for d in pool if d.path == path]
    assert found, f"no difference at {path}: {[d.path for d in pool]}"
    return found[0]


def only(report: DiffReport) -> list[str]:
    return [d.path for d in report.differences]


# ------------------------------------------------------------------ planted, one by one

PLANTED: list[tuple[str, Edit, str, str, str, str]] = [
    # (case, edit, path, category, impact, text the reason must hold)
    ("llama.cpp build", lambda m: edit_build(m, build_number=4589),
     "llamacpp[0].build", "engine build", "high",
     "b3447 (commit b5e95468) -> b4589 (commit b5e95468) (1142 builds apart, B newer)"),
    ("llama.cpp commit", lambda m: edit_build(m, commit="cfd74c86"),
     "llamacpp[0].build", "engine build", "high",
     "b3447 (commit b5e95468) -> b3447 (commit cfd74c86)"),
    ("backend", lambda m: edit_build(m, backends=["CPU", "Vulkan"]),
     "llamacpp[0].backends", "engine build", "high", "only on A: CUDA; only on B: Vulkan"),
    ("build option", lambda m: edit_build(m, build_flags={"GGML_CUDA": "OFF"}),
     "llamacpp[0].build_flags.GGML_CUDA", "engine build", "high", "ON -> OFF"),
    ("gpu model", lambda m: edit_gpu(m, name="NVIDIA GeForce RTX 3090"),
     "gpus[0].name", "gpu", "high", "RTX 4090 -> NVIDIA GeForce RTX 3090"),
    ("gpu count", lambda m: attrs.evolve(m, gpus=[*m.gpus, Gpu(index=1, name="NVIDIA RTX A4000",
                                                             uuid="GPU-00aa")]),
     "gpus[1]", "gpu", "high", "only on B: NVIDIA RTX A4000"),
    ("power limit", lambda m: edit_gpu(m, power_limit_w=300.0),
     "gpus[0].power_limit_w", "gpu", "high", "450 W -> 300 W (-33%)"),
    ("driver", lambda m: edit_gpu(m, driver_version="560.35.03"),
     "gpus[0].driver_version", "driver", "medium", "550.54.14 -> 560.35.03"),
    ("cuda runtime", lambda m: edit(m, "runtimes", cuda_toolkit="12.6.77"),
     "runtimes.cuda_toolkit", "runtime", "medium", "12.4.131 -> 12.6.77"),
    ("pcie slot", lambda m: edit_gpu(m, pcie_width_max=8),
     "gpus[0].pcie_width_max", "gpu", "medium", "16 -> 8"),
    ("frontend", lambda m: edit(m, "frontends", ollama=attrs.evolve(
        m.frontends.ollama, server_version="0.6.2")),
     "frontends.ollama.server_version", "frontend", "high", "it ships its own engine"),
    ("model file", lambda m: attrs.evolve(m, models=[attrs.evolve(
        m.models[0], sha256="0" * 64, quantization="Q8_0")]),
     "models[0].quantization", "model", "high", "Q4_K_M -> Q8_0"),
    ("cpu governor", lambda m: edit(m, "cpu", governor="powersave"),
     "cpu.governor", "cpu", "medium", "performance -> powersave"),
    ("cpu boost", lambda m: edit(m, "cpu", boost=False),
     "cpu.boost", "cpu", "medium", "yes -> no"),
    ("platform profile", lambda m: edit(m, "power", power_profile="power-saver"),
     "power.power_profile", "power", "medium", "performance -> power-saver"),
    ("memory", lambda m: edit(m, "memory", total_bytes=34359738368),
     "memory.total_bytes", "memory", "medium", "62.5 GiB -> 32.0 GiB"),
    ("kernel", lambda m: edit(m, "os", kernel="6.11.0-19-generic"),
     "os.kernel", "os", "low", "6.8.0-52-generic -> 6.11.0-19-generic"),
    ("libc", lambda m: edit(m, "os", libc="glibc 2.40"),
     "os.libc", "os", "low", "glibc 2.39 -> glibc 2.40"),
    ("python", lambda m: edit(m, "python", version="3.13.1"),
     "python.version", "python", "low", "3.12.3 -> 3.13.1"),
    ("env", lambda m: attrs.evolve(m, env={**m.env, "GGML_CUDA_FORCE_MMQ": "1"}),
     "env.GGML_CUDA_FORCE_MMQ", "env", "high", "unset -> 1"),
    ("hostname", lambda m: edit(m, "host", hostname="other-box"),
     "host.hostname", "host", "none", "tensorbox -> other-box"),
    ("serial", lambda m: edit_gpu(m, serial="999"),
     "gpus[0].serial", "gpu", "none", "1324021045871 -> 999"),
]


@pytest.mark.parametrize(
    ("case", "change", "path", "category", "impact", "text"),
    PLANTED,
    ids=[p[0] for p in PLANTED],
)
def test_planted_difference(
    case: str, change: Edit, path: str, category: str, impact: str, text: str
) -> None:
    report = diff(base(), change(base()))
    found = entry(report, path)
    assert (found.category, found.impact) == (category, impact), case
    assert text in found.reason, found.reason
    assert not report.state and not report.unknown  # nothing else leaks in
    assert report.max_impact == max((d.impact for d in report.differences),
                                    key=rules.IMPACT_RANK.__getitem__)


def test_known_on_one_side_is_not_a_difference() -> None:
    # rocm is null on the workstation: learning it on B is not a change of version
    report = diff(base(), edit(base(), "runtimes", rocm="6.2.4"))
    assert report.differences == []
    assert [d.path for d in report.unknown] == ["runtimes.rocm"]
    assert report.same_identity


def test_frontend_bundled_runtime_version() -> None:
    engine = "llama.cpp-linux-x86_64-nvidia-cuda-avx2"
    lms = LmStudio(app_version="0.3.9", runtimes=[NamedVersion(name=engine, version="1.9.2")])
    newer = attrs.evolve(lms, runtimes=[NamedVersion(name=engine, version="1.12.0")])
    a = edit(base(), "frontends", lmstudio=lms)
    b = edit(base(), "frontends", lmstudio=newer)
    found = entry(diff(a, b), f"frontends.lmstudio.runtimes[{engine}].version")
    assert (found.category, found.impact) == ("frontend", "high")
    assert "1.9.2 -> 1.12.0" in found.reason


def test_results_params_change_is_high() -> None:
    from envstamp.diffing.results import compare_results

    def test(params: dict[str, int]) -> dict[str, Any]:
        return {"name": "tg128", "params": params, "metrics": {"tokens_per_s": 40.0}}

    found = compare_results([test({"n_gpu_layers": 99, "n_threads": 16})],
                            [test({"n_gpu_layers": 20, "n_threads": 8})]).differences
    assert [(d.path, d.impact) for d in found] == [
        ("tests[tg128].params.n_gpu_layers", "high"),
        ("tests[tg128].params.n_threads", "high"),
    ]


# ------------------------------------------------------------------------ state at capture


def test_volatile_differences_are_state_not_identity() -> None:
    hot = edit_volatile_gpu(
        base(), temperature_c=83.0, throttle_reasons=["sw_thermal", "hw_slowdown"]
    )
    report = diff(base(), hot)
    assert report.differences == [] and report.same_identity
    throttle = entry(report, "volatile.gpus[0].throttle_reasons", state=True)
    assert throttle.impact == "high" and throttle.state
    assert "only on B: hw_slowdown, sw_thermal" in throttle.reason
    assert "41 C" in throttle.reason and "83 C" in throttle.reason
    assert report.state[0] is throttle  # ranked first
    assert report.headline.startswith("no identity difference; state at capture differs")
    assert report.at_or_above("low") == []
    assert report.at_or_above("high", include_state=True) == [throttle]


def test_fields_marked_volatile_are_state() -> None:
    report = diff(edit(base(), "power", ac_online=True), edit(base(), "power", ac_online=False))
    assert report.differences == []
    ac = entry(report, "power.ac_online", state=True)
    assert (ac.category, ac.impact) == ("power", "medium")


def test_pcie_link_below_max_on_one_side() -> None:
    report = diff(base(), edit_gpu(base(), pcie_gen_current=1, pcie_width_current=4))
    link = entry(report, "gpus[0].pcie_link", state=True)
    assert link.impact == "medium"
    assert "on B (gen 1 x4 of gen 4 x16)" in link.reason
    # both sides below their maximum: the link check has nothing to tell apart
    gen1, gen2 = edit_gpu(base(), pcie_gen_current=1), edit_gpu(base(), pcie_gen_current=2)
    assert [d.path for d in diff(gen1, gen2).state] == ["gpus[0].pcie_gen_current"]


def test_small_volatile_jitter_is_equal() -> None:
    warmer = edit_volatile_gpu(base(), temperature_c=43.0, power_draw_w=23.0)
    assert diff(base(), warmer).state == []


# ------------------------------------------------------------------------------ ranking


def test_ranking_of_many_planted_differences() -> None:
    changed = base()
    for _, change, *_rest in PLANTED:
        changed = change(changed)
    report = diff(base(), changed)
    ranks = [rules.IMPACT_RANK[d.impact] for d in report.differences]
    assert ranks == sorted(ranks, reverse=True)
    assert report.differences[0].category == "engine build"
    highs = [d for d in report.differences if d.impact == "high"]
    cats = [rules.CATEGORY_RANK[d.category] for d in highs]
    assert cats == sorted(cats)
    # the build option sits beneath the build change: one finding, counted once
    assert [(d.path, d.under) for d in highs if d.under] == [
        ("llamacpp[0].build_flags.GGML_CUDA", "llamacpp[0].build")]
    assert report.counts["high"] == len(highs) - 1
    ranked = sum(report.counts[i] for i in ("high", "medium", "low"))
    assert report.headline.startswith(f"{ranked} differences that may change speed")
    assert report.likely_causes[0].startswith("llama.cpp")
    assert not report.same_identity and report.max_impact == "high"


def test_two_captured_files() -> None:
    report = diff(str(WORKSTATION), str(RENDER_NODE))
    paths = only(report)
    for expected in ("llamacpp[0].build", "gpus[0].power_limit_w",
                     "gpus[0].driver_version", "cpu.governor", "frontends.ollama.server_version"):
        assert expected in paths
    assert report.differences[0].path == "llamacpp[0].build"
    assert not [p for p in paths if p.startswith("llamacpp[0].") and p.endswith(
        ("build_number", "commit", "version"))]
    assert report.a is not None and report.a.verification == "unsigned"
    assert report.a.source == str(WORKSTATION)
    assert not report.same_digest


# ------------------------------------------------------------------ equal things are equal


def test_identical_manifests() -> None:
    report = diff(base(), base())
    assert report.differences == report.state == report.unknown == []
    assert report.same_identity and report.same_digest and report.max_impact == "none"
    assert report.headline == "no identity difference"


def test_names_normalised_and_numbers_within_tolerance() -> None:
    other = edit_gpu(base(), name="GeForce RTX 4090", memory_total_mib=24576,
                     clocks_max_graphics_mhz=3105)
    other = edit(other, "cpu", model_name="AMD  Ryzen 9 7950X 16-core processor")
    assert diff(base(), other).differences == []


def test_lists_of_strings_are_sets() -> None:
    shuffled = edit(base(), "cpu", isa=list(reversed(base().cpu.isa)))
    shuffled = edit_build(shuffled, backends=["cuda", "cpu"])
    assert diff(base(), shuffled).differences == []


def test_gpus_matched_by_uuid_then_bus_then_index() -> None:
    second = Gpu(index=1, vendor="nvidia", name="NVIDIA GeForce RTX 3090", uuid="GPU-7777",
                 pci_bus_id="00000000:02:00.0", driver_version="550.54.14",
                 power_limit_w=350.0)
    two = attrs.evolve(base(), gpus=[*base().gpus, second])
    swapped = attrs.evolve(two, gpus=list(reversed(two.gpus)))
    report = diff(two, swapped)
    assert [d for d in report.differences if d.impact != "none"] == []
    # by bus id when the uuids are not known (redacted or absent)
    no_uuid = attrs.evolve(two, gpus=[attrs.evolve(g, uuid=None) for g in two.gpus])
    no_uuid_swapped = attrs.evolve(no_uuid, gpus=list(reversed(no_uuid.gpus)))
    assert [d for d in diff(no_uuid, no_uuid_swapped).differences if d.impact != "none"] == []
    # a changed 3090 is found as the 3090, at a path both directions agree on
    changed = attrs.evolve(swapped, gpus=[attrs.evolve(swapped.gpus[0], power_limit_w=280.0),
                                          swapped.gpus[1]])
    found = entry(diff(two, changed), "gpus[uuid=GPU-7777].power_limit_w")
    assert found.impact == "high"
    assert "gpus[uuid=GPU-7777].power_limit_w" in only(diff(changed, two))


def test_llamacpp_builds_matched_by_path_then_order() -> None:
    other = LlamaCppBuild(path="/opt/llama-vulkan/llama-bench", build_number=4400,
                          backends=["Vulkan"])
    a = attrs.evolve(base(), llamacpp=[*base().llamacpp, other])
    b = attrs.evolve(a, llamacpp=list(reversed(a.llamacpp)))
    assert diff(a, b).differences == []
    # different paths: paired by order, and the path change is low
    moved = edit_build(base(), path="/usr/local/bin/llama-bench")
    report = diff(base(), moved)
    assert [(d.path, d.impact) for d in report.differences] == [("llamacpp[0].path", "low")]


def test_failed_probe_makes_a_list_unknown_not_empty() -> None:
    failed = [ProbeRecord(name="gpu_nvidia", status="timeout", detail="nvidia-smi hung")]
    b = attrs.evolve(base(), gpus=[], probes=failed)
    report = diff(base(), b)
    assert not [d for d in report.differences if d.pattern == "gpus[]"]
    assert "gpus" in [d.path for d in report.unknown]
    # with the probe fine, a GPU missing on B is a real (high) difference
    gone = attrs.evolve(base(), gpus=[])
    assert entry(diff(base(), gone), "gpus[0]").impact == "high"


def test_unknown_field_added_later_is_still_diffed() -> None:
    # a field nobody wrote a rule for is found by the generic walk with a default rank
    a, b = base(), edit(base(), "os", edition="Professional")
    a = edit(a, "os", edition="Home")
    found = entry(diff(a, b), "os.edition")
    assert (found.category, found.impact) == ("os", "low")


def test_manifest_from_an_older_envstamp() -> None:
    older = load(OLDER)
    assert older.gpus[0].pci_device_id is None  # the field did not exist then
    report = diff(str(OLDER), str(WORKSTATION))
    assert report.same_identity and report.differences == []
    unknown = {d.path for d in report.unknown}
    assert {"gpus[0].pci_device_id", "os.wsl"} <= unknown
    assert "runtimes.opencl" not in unknown  # unknown on both sides is no news
    assert report.headline == "no identity difference"


def test_inputs_as_paths_documents_and_manifests() -> None:
    doc = load_document(str(RENDER_NODE))
    report = diff(Document("manifest", base(), "base"), doc)
    assert report.a is not None and report.a.source == "base"
    assert report.b is not None and report.b.kind == "manifest"
    with pytest.raises(TypeError):
        diff(base(), 42)  # type: ignore[arg-type]


def test_symmetry_on_the_two_machines() -> None:
    forward = diff(str(WORKSTATION), str(RENDER_NODE))
    backward = diff(str(RENDER_NODE), str(WORKSTATION))
    assert sorted(only(forward)) == sorted(only(backward))
    pairs = {d.path: (d.a, d.b) for d in forward.differences}
    assert all(pairs[d.path] == (d.b, d.a) for d in backward.differences)


# ------------------------------------------------------------- one machine, captured twice


def _hosts() -> list[Path]:
    return sorted(p for p in HOSTS.iterdir() if p.is_dir()) if HOSTS.is_dir() else []


@pytest.mark.parametrize("host", _hosts(), ids=lambda p: p.name)
def test_recorded_host_captured_twice_has_no_identity_difference(host: Path) -> None:
    first = capture(replay=str(host))
    forget_static()
    second = capture(replay=str(host))
    # readings of the moment may differ between two captures; identity may not
    second = attrs.evolve(second, volatile=attrs.evolve(second.volatile, load_1m=9.5))
    report = diff(first, second)
    assert report.differences == [], [d.reason for d in report.differences]
    assert report.same_identity and report.same_digest
    assert [d.path for d in report.state] in ([], ["volatile.load_1m"])


def test_there_is_a_recorded_host_to_replay() -> None:
    assert _hosts(), "tests/fixtures/hosts holds no recorded host"


def test_labels_name_the_key_and_the_frontend() -> None:
    a = edit(base(), "frontends", ollama=attrs.evolve(base().frontends.ollama,
                                                      server_version="0.6.2"))
    a = attrs.evolve(a, env={**a.env, "OLLAMA_FLASH_ATTENTION": "1"})
    labels = {d.path: (d.label, d.component) for d in diff(base(), a).differences}
    assert labels["frontends.ollama.server_version"] == ("ollama version", "ollama version")
    assert labels["env.OLLAMA_FLASH_ATTENTION"][0] == "Ollama setting OLLAMA_FLASH_ATTENTION"
