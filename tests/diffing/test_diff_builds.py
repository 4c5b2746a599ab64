"""Engine builds in a diff: one finding per build change, build options counted only where
they change what runs, a frontend's bundled engine ranked like a llama.cpp build."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from envstamp.diffing.builds import (
    describe_build,
    number_from_describe,
    option_backend,
    option_family,
    same_in_effect,
)
from envstamp.diffing.differ import diff
from envstamp.diffing.rules import normalise_compiler, normalise_target
from envstamp.manifest.model import BundledEngine, LlamaCppBuild, Manifest
from envstamp.manifest.serialize import structure
from tests.diff_support import DIFF_FIXTURES, base, edit_build

BUILDS = DIFF_FIXTURES / "cpu-builds"


def real_build(name: str) -> LlamaCppBuild:
    data = json.loads((BUILDS / name).read_text(encoding="utf-8"))
    return structure(data, LlamaCppBuild)


def with_flags(manifest: Manifest, **flags: str) -> Manifest:
    """The workstation's CUDA build with some options changed (None-valued: removed)."""
    merged = {**manifest.llamacpp[0].build_flags, **flags}
    return edit_build(manifest, build_flags={k: v for k, v in merged.items() if v != "-"})


def ranked(manifest_a: Manifest, manifest_b: Manifest) -> list[tuple[str, str, str | None]]:
    report = diff(manifest_a, manifest_b)
    return [(d.path, d.impact, d.under) for d in report.differences if d.impact != "none"]


# -------------------------------------------------------------------------- build options


def test_an_option_of_an_enabled_backend_counts() -> None:
    # the workstation's build has GGML_CUDA=ON: a CUDA option changes the kernels
    a = with_flags(base(), GGML_CUDA_FORCE_MMQ="OFF")
    b = with_flags(base(), GGML_CUDA_FORCE_MMQ="ON")
    assert ranked(a, b) == [("llamacpp[0].build_flags.GGML_CUDA_FORCE_MMQ", "high", None)]


def test_an_option_of_a_backend_both_builds_leave_off_does_not() -> None:
    a = with_flags(base(), GGML_HIP_GRAPHS="OFF", GGML_SYCL_F16="OFF")
    b = with_flags(base(), GGML_HIP_GRAPHS="ON", GGML_SYCL_F16="ON")
    report = diff(a, b)
    (options,) = report.differences
    assert (options.path, options.impact) == ("llamacpp[0].build_flags", "low")
    assert options.change == "2 options: 2 of backends off in both builds (HIP, SYCL)"
    assert options.a == ["GGML_HIP_GRAPHS=OFF", "GGML_SYCL_F16=OFF"]
    assert report.counts == {"high": 0, "medium": 0, "low": 1, "none": 0}


def test_a_backend_on_in_one_build_makes_its_options_count() -> None:
    a = with_flags(base(), GGML_VULKAN="OFF", GGML_VULKAN_PERF="OFF")
    b = with_flags(base(), GGML_VULKAN="ON", GGML_VULKAN_PERF="ON")
    assert ranked(a, b) == [
        ("llamacpp[0].build_flags.GGML_VULKAN", "high", None),
        ("llamacpp[0].build_flags.GGML_VULKAN_PERF", "high", None),
    ]


def test_values_the_same_in_effect_are_no_difference() -> None:
    a = with_flags(base(), GGML_CUDA="ON", CMAKE_CUDA_ARCHITECTURES="86;89", GGML_LTO="off")
    b = with_flags(base(), GGML_CUDA="TRUE", CMAKE_CUDA_ARCHITECTURES="89;86", GGML_LTO="0")
    assert diff(a, b).differences == []


def test_an_option_one_version_lacks_is_low_unless_it_adds_a_backend() -> None:
    a = with_flags(base(), GGML_ET="-", GGML_CPU_REPACK="-", GGML_METAL="-")
    b = with_flags(base(), GGML_ET="OFF", GGML_CPU_REPACK="ON", GGML_METAL="ON")
    report = diff(a, b)
    assert [(d.path, d.impact) for d in report.differences] == [
        ("llamacpp[0].build_flags.GGML_METAL", "high"),
        ("llamacpp[0].build_flags", "low"),
    ]
    assert report.differences[1].change == "2 options: 2 only in B's version"


def test_a_renamed_backend_switch_is_not_a_backend_change() -> None:
    # llama.cpp renamed LLAMA_CUBLAS to GGML_CUDA: both builds are CUDA builds
    old = with_flags(base(), GGML_CUDA="-", LLAMA_CUBLAS="ON")
    report = diff(old, base())
    assert [(d.path, d.change) for d in report.differences] == [
        ("llamacpp[0].build_flags", "2 options: 1 only in A's version; 1 only in B's version")]


def test_cpu_family_options_count_only_for_that_family() -> None:
    a = with_flags(base(), GGML_LASX="ON", GGML_RVV="ON", GGML_AVX512="OFF")
    b = with_flags(base(), GGML_LASX="OFF", GGML_RVV="OFF", GGML_AVX512="ON")
    report = diff(a, b)
    # the workstation builds for x86_64: AVX-512 counts (but -march=native decides it there)
    assert [d.path for d in report.differences] == ["llamacpp[0].build_flags"]
    assert report.differences[0].change == (
        "3 options: 2 for other CPU families (loongarch, riscv); 1 x86 instruction-set "
        "switches of a GGML_NATIVE=ON build (-march=native decides them)"
    )
    portable_a = with_flags(a, GGML_NATIVE="OFF")
    portable_b = with_flags(b, GGML_NATIVE="OFF")
    assert ranked(portable_a, portable_b)[0] == (
        "llamacpp[0].build_flags.GGML_AVX512", "high", None)


def test_options_of_a_build_without_a_cmake_cache_are_unknown() -> None:
    no_cache = edit_build(base(), build_flags={})
    report = diff(no_cache, base())
    assert [d for d in report.differences if "build_flags" in d.path] == []
    (unknown,) = [d for d in report.unknown if "build_flags" in d.path]
    assert unknown.change == ("unknown on A (no CMake cache found beside that build); "
                              "B: 4 options")


def test_options_sit_beneath_their_build_change() -> None:
    a = with_flags(base(), GGML_CUDA_FORCE_MMQ="OFF", GGML_HIP_GRAPHS="OFF")
    b = edit_build(with_flags(base(), GGML_CUDA_FORCE_MMQ="ON", GGML_HIP_GRAPHS="ON"),
                   build_number=4589, commit="cfd74c86")
    report = diff(a, b)
    assert [(d.path, d.under) for d in report.differences] == [
        ("llamacpp[0].build", None),
        ("llamacpp[0].build_flags.GGML_CUDA_FORCE_MMQ", "llamacpp[0].build"),
        ("llamacpp[0].build_flags", "llamacpp[0].build"),
    ]
    assert report.counts == {"high": 1, "medium": 0, "low": 0, "none": 0}
    assert report.likely_causes == [
        "llama.cpp build b3447 (commit b5e95468) -> b4589 (commit cfd74c86) "
        "(1142 builds apart, B newer)"]


def test_real_cpu_builds_text_view() -> None:
    from envstamp.output.diff_render import to_text

    report = diff(attrs.evolve(base(), llamacpp=[real_build("b5308-cpu.json")]),
                  attrs.evolve(base(), llamacpp=[real_build("0c1e570-cpu.json")]))
    text = to_text(report)
    assert text.count("HIGH") == 1
    build_line = text.index("llama.cpp build: b5308 (commit 8733e0cf6eef) -> commit 0c1e57098")
    assert text.index("      - low: llama.cpp build options without effect: 52 options") > \
        build_line
    assert "GGML_CUDA" not in text.split("Differences")[1].split("HIGH")[1].split("LOW")[0]


# ----------------------------------------------------------------------- build identity


def test_build_described_by_number_commit_version() -> None:
    assert describe_build({"build_number": 4589, "commit": "cfd74c86", "version": None}) == \
        "b4589 (commit cfd74c86)"
    assert describe_build({"build_number": None, "commit": "0c1e57098",
                           "version": "0.5.0-dev"}) == "commit 0c1e57098, version 0.5.0-dev"
    assert describe_build({}) == "unknown"
    assert number_from_describe("b5308") == 5308
    assert number_from_describe("b5308-3-g1a2b3c4-dirty") == 5311
    assert number_from_describe("0c1e570") is None


def test_a_build_known_on_one_side_only_is_unknown_not_changed() -> None:
    unknown = edit_build(base(), build_number=None, commit=None, version=None, git=None)
    report = diff(unknown, base())
    assert not [d for d in report.differences if d.path.startswith("llamacpp[0].b")]
    # one entry for the build's identity, naming the parts A lacks (review gap 1)
    unknown = {d.path: d.change for d in report.unknown}
    assert unknown["llamacpp[0].build"] == (
        "unknown on A: build number, commit; B: b3447 (commit b5e95468)")
    assert not {"llamacpp[0].build_number", "llamacpp[0].commit"} & set(unknown)


@pytest.mark.parametrize(("a", "b"), [
    ("cc (Debian 12.2.0-14+deb12u1) 12.2.0", "GNU 12.2.0"),
    ("Apple clang version 15.0.0 (clang-1500.3.9.4)", "AppleClang 15.0.0"),
])
def test_one_compiler_two_spellings(a: str, b: str) -> None:
    assert normalise_compiler(a) == normalise_compiler(b)


def test_compilers_and_targets_that_differ() -> None:
    assert normalise_compiler("GNU 12.2.0") != normalise_compiler("GNU 13.2.0")
    assert normalise_compiler("GNU 12.2.0") != normalise_compiler("Clang 12.2.0")
    assert normalise_target("x86_64-linux-gnu") == normalise_target("Linux x86_64")
    assert normalise_target("x86_64-linux-gnu") != normalise_target("aarch64-linux-gnu")


def test_option_tables() -> None:
    assert option_backend("GGML_CUDA_FA") == "CUDA"
    assert option_backend("LLAMA_CUBLAS") == "CUDA"
    assert option_backend("CMAKE_HIP_ARCHITECTURES") == "HIP"
    assert option_backend("GGML_CPU_REPACK") is None
    assert option_backend("GGML_ETC") is None  # a prefix is not a backend
    assert option_family("GGML_AVX512_VNNI") == "x86"
    assert option_family("GGML_RV_ZFH") == "riscv"
    assert option_family("GGML_NATIVE") is None
    assert same_in_effect("ON", "yes") and not same_in_effect("ON", "OFF")


# ------------------------------------------------------------------------ bundled engines


def _ollama_engine(engine: BundledEngine) -> Manifest:
    manifest = base()
    assert manifest.frontends.ollama is not None
    ollama = attrs.evolve(manifest.frontends.ollama, engine=engine)
    return attrs.evolve(manifest, frontends=attrs.evolve(manifest.frontends, ollama=ollama))


def _engine(**fields: Any) -> BundledEngine:
    return attrs.evolve(BundledEngine(name="llama.cpp", backend="CUDA 12", source="server log"),
                        **fields)


def test_a_bundled_engine_change_is_one_build_finding() -> None:
    a = _ollama_engine(_engine(version="0.0.4589", build_number=4589, commit="cfd74c86"))
    b = _ollama_engine(_engine(version="0.0.5120", build_number=5120, commit="aa12bc34"))
    report = diff(a, b)
    (found,) = report.differences
    assert (found.path, found.category, found.impact) == (
        "frontends.ollama.engine.build", "engine build", "high")
    assert found.label == "ollama bundled llama.cpp build"
    assert found.change == ("b4589 (commit cfd74c86, version 0.0.4589) -> b5120 (commit "
                            "aa12bc34, version 0.0.5120) (531 builds apart, B newer)")
    assert report.likely_causes == [f"{found.label} {found.change}"]


def test_a_bundled_engine_backend_change_is_high() -> None:
    a = _ollama_engine(_engine(build_number=4589))
    b = _ollama_engine(_engine(build_number=4589, backend="Vulkan"))
    (found,) = diff(a, b).differences
    assert (found.path, found.impact) == ("frontends.ollama.engine.backend", "high")


def test_compare_names_a_build_change_as_the_only_difference() -> None:
    from envstamp.diffing.compare import cell, compare

    report = compare([attrs.evolve(base(), llamacpp=[real_build("b5308-cpu.json")]),
                      attrs.evolve(base(), llamacpp=[real_build("0c1e570-cpu.json")])])
    assert report.summary == (
        "the only difference between these runs is the llama.cpp build: b5308 (commit "
        "8733e0cf6eef) -> commit 0c1e57098, version 0.5.0-dev")
    (options,) = [r for r in report.rows if r.path == "llamacpp[0].build_flags"]
    assert cell(options, options.values[0]).endswith(" (+48 more)")


# ------------------------------------------- one engine update, one finding (issue 15)

CUDA = "llama.cpp-linux-x86_64-nvidia-cuda12-avx2"
AVX2 = "llama.cpp-linux-x86_64-avx2"
VULKAN = "llama.cpp-linux-x86_64-vulkan-avx2"


def _lmstudio(cuda: str, avx2: str, vulkan: str, engine: BundledEngine | None) -> Manifest:
    """LM Studio as its probe describes it (the shape of tests/fixtures/hosts/
    frontends-linux-all): engine packages, the one selected for GGUF, and its engine."""
    from envstamp.manifest.model import LmStudio, NamedVersion

    lmstudio = LmStudio(
        app_version="0.3.27",
        runtimes=[NamedVersion(name=AVX2, version=avx2), NamedVersion(name=CUDA, version=cuda),
                  NamedVersion(name=VULKAN, version=vulkan)],
        selected_runtimes=[NamedVersion(name=CUDA, version=cuda)],
        engine=engine,
    )
    manifest = base()
    return attrs.evolve(manifest, frontends=attrs.evolve(manifest.frontends, lmstudio=lmstudio))


def _lms_engine(version: str, build_number: int, commit: str) -> BundledEngine:
    return BundledEngine(name="llama.cpp", version=version, build_number=build_number,
                         commit=commit, backend="CUDA 12", source=f"LM Studio runtime {CUDA}")


def test_an_lm_studio_engine_update_is_one_high_finding_in_diff_and_compare() -> None:
    """Before: three HIGH lines for one update (the bundled build, the package version, the
    selected package version), three rows in compare."""
    from envstamp.diffing.compare import compare

    a = _lmstudio("1.50.2", "1.50.2", "1.47.0", _lms_engine("1.50.2", 6490, "3ecb2f671a"))
    b = _lmstudio("1.52.0", "1.52.0", "1.48.0", _lms_engine("1.52.0", 6550, "9f1e2a3b4c"))
    report = diff(a, b)
    high = [d for d in report.differences if d.impact == "high"]
    assert [(d.path, d.label) for d in high] == [
        ("frontends.lmstudio.engine.build", "lmstudio bundled llama.cpp build"),
        # another package that moved on its own is its own finding
        (f"frontends.lmstudio.runtimes[{VULKAN}].version", "lmstudio bundled engine version"),
    ]
    engine = high[0]
    assert engine.change == ("b6490 (commit 3ecb2f671a, version 1.50.2) -> b6550 (commit "
                             "9f1e2a3b4c, version 1.52.0) (60 builds apart, B newer)")
    assert engine.reason.endswith(
        ": the frontend's engine: kernels and defaults change between builds (with "
        f"runtimes[{AVX2}], runtimes[{CUDA}], selected_runtimes[{CUDA}])")
    rows = [r.path for r in compare([a, b]).rows if r.path.startswith("frontends.lmstudio")]
    assert rows == ["frontends.lmstudio.engine.build",
                    f"frontends.lmstudio.runtimes[{VULKAN}].version"]


def test_a_package_update_without_a_known_engine_is_said_once_as_selected() -> None:
    a = _lmstudio("1.50.2", "1.47.0", "1.47.0", None)
    b = _lmstudio("1.52.0", "1.47.0", "1.47.0", None)
    found = [(d.path, d.impact, d.change) for d in diff(a, b).differences]
    assert found == [(f"frontends.lmstudio.selected_runtimes[{CUDA}].version", "high",
                      "1.50.2 -> 1.52.0")]


def test_a_jan_backend_update_is_one_finding() -> None:
    from envstamp.manifest.model import Jan, NamedVersion

    def jan(version: str) -> Manifest:
        engine = BundledEngine(name="llama.cpp", version=version,
                               build_number=int(version[1:]), backend="CUDA 12.0")
        entry = Jan(app_version="0.6.9", engine=engine, engines=[
            NamedVersion(name="llama.cpp linux-avx2-cuda-cu12.0-x64", version=version),
            NamedVersion(name="llama.cpp linux-avx2-x64", version=version)])
        manifest = base()
        return attrs.evolve(manifest, frontends=attrs.evolve(manifest.frontends, jan=entry))

    report = diff(jan("b6324"), jan("b6500"))
    assert [(d.path, d.change) for d in report.differences] == [
        ("frontends.jan.engine.build",
         "b6324 (version b6324) -> b6500 (version b6500) (176 builds apart, B newer)")]
    assert report.counts["high"] == 1


def test_the_same_build_number_is_no_distance() -> None:
    """Before: "(0 builds apart, A newer)" for a repackaged engine of one build."""
    a = _lmstudio("1.50.2", "1.50.2", "1.47.0", _lms_engine("1.50.2", 6490, "3ecb2f671a"))
    b = _lmstudio("1.50.3", "1.50.3", "1.47.0", _lms_engine("1.50.3", 6490, "3ecb2f671a"))
    (found,) = [d for d in diff(a, b).differences if d.impact == "high"]
    assert found.change == ("b6490 (commit 3ecb2f671a, version 1.50.2) -> b6490 (commit "
                            "3ecb2f671a, version 1.50.3)")


def test_compare_keeps_the_values_of_packages_folded_in_one_pair() -> None:
    """Folded into the engine's finding between the reference and input 2, a package's change
    is still input 2's value where input 3 makes it a row of its own (not the reference's)."""
    from envstamp.diffing.compare import compare

    a = _lmstudio("1.50.2", "1.50.2", "1.47.0", _lms_engine("1.50.2", 6490, "3ecb2f671a"))
    b = _lmstudio("1.52.0", "1.52.0", "1.47.0", _lms_engine("1.52.0", 6550, "9f1e2a3b4c"))
    c = _lmstudio("1.53.0", "1.52.0", "1.47.0", None)
    rows = {r.path: r.values for r in compare([a, b, c]).rows}
    assert rows[f"frontends.lmstudio.runtimes[{AVX2}].version"] == ["1.50.2", "1.52.0", "1.52.0"]
    assert rows[f"frontends.lmstudio.selected_runtimes[{CUDA}].version"] == [
        "1.50.2", "1.52.0", "1.53.0"]
