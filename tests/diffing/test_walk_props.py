"""Properties of the walk's list matching and of the build identity helpers.

``match_items`` pairs list items by key, then by position; its path segments must be the
same whichever side is A, or a diff and its mirror would name one GPU two ways.  The build
helpers decide when two llama.cpp builds are the same build.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.diffing import builds, rules
from envstamp.diffing.walk import Matched, lone_segment, match_items
from envstamp.manifest.model import Gpu, LlamaCppBuild, ModelFile, OllamaModel

GPUS = st.builds(
    Gpu,
    index=st.one_of(st.none(), st.integers(0, 2)),
    uuid=st.one_of(st.none(), st.sampled_from(["GPU-1", "GPU-2", "gpu-1", "GPU-3"])),
    pci_bus_id=st.one_of(st.none(), st.sampled_from(["00000000:01:00.0", "00000000:02:00.0"])),
    name=st.sampled_from(["NVIDIA GeForce RTX 4090", "GeForce RTX 3090"]),
)
MODELS = st.builds(
    ModelFile,
    path=st.one_of(st.none(), st.sampled_from(["/m/a.gguf", "/m/b.gguf"])),
    sha256=st.one_of(st.none(), st.sampled_from(["aa" * 32, "bb" * 32])),
    name=st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
)
MANY = settings(max_examples=150)


def _check_partition(matched: Matched, a: list[Any], b: list[Any]) -> None:
    left = [i for i, _, _ in matched.pairs] + matched.only_a
    right = [j for _, j, _ in matched.pairs] + matched.only_b
    assert sorted(left) == list(range(len(a)))
    assert sorted(right) == list(range(len(b)))


@MANY
@given(st.lists(GPUS, max_size=4), st.lists(GPUS, max_size=4))
def test_every_gpu_is_paired_once_or_left_over(a: list[Gpu], b: list[Gpu]) -> None:
    matched = match_items(a, b, rules.list_match("gpus"))
    _check_partition(matched, a, b)
    # by position: only one side can have items left over
    assert not (matched.only_a and matched.only_b)


@MANY
@given(st.lists(GPUS, max_size=4), st.lists(GPUS, max_size=4))
def test_gpu_pairs_and_their_names_do_not_depend_on_which_side_is_a(
    a: list[Gpu], b: list[Gpu]
) -> None:
    how = rules.list_match("gpus")
    forward, backward = match_items(a, b, how), match_items(b, a, how)
    assert sorted((i, j, seg) for i, j, seg in forward.pairs) == sorted(
        (i, j, seg) for j, i, seg in backward.pairs)
    assert (forward.only_a, forward.only_b) == (backward.only_b, backward.only_a)


@MANY
@given(st.lists(MODELS, max_size=4), st.lists(MODELS, max_size=4))
def test_models_pair_by_a_shared_key_first_and_alike_both_ways(
    a: list[ModelFile], b: list[ModelFile]
) -> None:
    how = rules.list_match("models")
    forward, backward = match_items(a, b, how), match_items(b, a, how)
    _check_partition(forward, a, b)
    assert sorted(forward.pairs) == sorted((i, j, seg) for j, i, seg in backward.pairs)
    # an item whose path is on both sides is paired with the other side's item of that path
    for i, item in enumerate(a):
        same_path = [j for j, other in enumerate(b) if item.path and other.path == item.path]
        if same_path and len(same_path) == 1 and [x.path for x in a].count(item.path) == 1:
            assert (i, same_path[0]) in {(x, y) for x, y, _ in forward.pairs}


LOADED = st.builds(OllamaModel, name=st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
                   size_bytes=st.one_of(st.none(), st.integers(1, 3)))


@MANY
@given(st.lists(LOADED, max_size=4), st.lists(LOADED, max_size=4))
def test_unordered_lists_never_pair_items_by_position(
    a: list[OllamaModel], b: list[OllamaModel]
) -> None:
    how = rules.list_match("frontends.ollama.loaded_models")
    assert not how.by_order
    matched = match_items(a, b, how)
    _check_partition(matched, a, b)
    for i, j, _ in matched.pairs:
        name_a, name_b = a[i].name, b[j].name
        by_name = name_a is not None and name_b is not None and (
            rules.normalise_name(name_a) == rules.normalise_name(name_b))
        assert by_name or a[i] == b[j]


@given(st.lists(GPUS, min_size=1, max_size=4))
def test_a_list_matched_with_itself_pairs_each_item_with_itself(gpus: list[Gpu]) -> None:
    matched = match_items(gpus, list(gpus), rules.list_match("gpus"))
    assert matched.only_a == matched.only_b == []
    assert all(gpus[i] == gpus[j] for i, j, _ in matched.pairs)


def test_gpus_pair_by_uuid_across_positions_and_are_named_by_it() -> None:
    one = Gpu(index=0, uuid="GPU-1", name="A")
    two = Gpu(index=1, uuid="GPU-2", name="B")
    matched = match_items([one, two], [two, one], rules.list_match("gpus"))
    assert matched.pairs == [(0, 1, "uuid=GPU-1"), (1, 0, "uuid=GPU-2")]


def test_gpus_without_keys_pair_by_position() -> None:
    a = [Gpu(name="A"), Gpu(name="B"), Gpu(name="C")]
    matched = match_items(a, a[:2], rules.list_match("gpus"))
    assert [(i, j, s) for i, j, s in matched.pairs] == [(0, 0, "0"), (1, 1, "1")]
    assert matched.only_a == [2]


def test_a_lone_item_is_named_by_its_key_when_the_list_has_no_order() -> None:
    how = rules.list_match("frontends.ollama.loaded_models")
    assert lone_segment(OllamaModel(name="qwen3:8b"), 3, how) == "qwen3:8b"
    assert lone_segment(OllamaModel(), 3, how) == "3"
    assert lone_segment(Gpu(uuid="GPU-9"), 2, rules.list_match("gpus")) == "2"  # by order


# ---------------------------------------------------------------------------- builds


@given(st.integers(0, 99999), st.integers(0, 500), st.text("0123456789abcdef", min_size=7,
                                                           max_size=12), st.booleans())
def test_a_tag_and_the_commits_after_it_give_the_build_number(
    tag: int, ahead: int, commit: str, dirty: bool
) -> None:
    suffix = "-dirty" if dirty else ""
    assert builds.number_from_describe(f"b{tag}{suffix}") == tag
    assert builds.number_from_describe(f"b{tag}-{ahead}-g{commit}{suffix}") == tag + ahead


@pytest.mark.parametrize("describe", [None, "", "v1.2.3", "b12x", "release-b5308", "b5308-3"])
def test_a_describe_that_is_no_release_tag_gives_no_number(describe: str | None) -> None:
    assert builds.number_from_describe(describe) is None


SUMMARIES = st.fixed_dictionaries({
    "build_number": st.one_of(st.none(), st.integers(1, 9000)),
    "commit": st.one_of(st.none(), st.sampled_from(["cfd74c86", "cfd74c86aa", "b5e95468", ""])),
    "version": st.one_of(st.none(), st.sampled_from(["0.5.0", "v0.5.0", "0.6.0"])),
})


@given(SUMMARIES, SUMMARIES)
def test_an_identity_change_is_symmetric_and_never_one_of_a_build_with_itself(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    assert builds.identity_changed(a, b) == builds.identity_changed(b, a)
    assert not builds.identity_changed(a, a)
    lacks_a, lacks_b = builds.one_sided_parts(a, b)
    assert builds.one_sided_parts(b, a) == (lacks_b, lacks_a)


def test_a_build_without_a_number_takes_it_from_its_options_or_its_tag() -> None:
    from envstamp.manifest.model import GitInfo

    by_flags = LlamaCppBuild(build_flags={"LLAMA_BUILD_NUMBER": "4589",
                                          "LLAMA_BUILD_COMMIT": "cfd74c86"})
    assert builds.build_summary(by_flags) == {"build_number": 4589, "commit": "cfd74c86",
                                              "version": None}
    by_git = LlamaCppBuild(git=GitInfo(commit="8733e0cf6eef", describe="b5308-2-g8733e0c"))
    assert builds.build_summary(by_git) == {"build_number": 5310, "commit": "8733e0cf6eef",
                                            "version": None}
    printed = LlamaCppBuild(build_number=1, commit="aaaaaaa",
                            build_flags={"LLAMA_BUILD_NUMBER": "2"})
    assert builds.build_summary(printed)["build_number"] == 1  # what it printed wins


@pytest.mark.parametrize(
    ("x", "y", "same"),
    [("ON", "TRUE", True), ("on", "1", True), ("OFF", "false", True), ("0", "no", True),
     ("ON", "OFF", False), ("a;b", "b;a", True), ("a;b", "a", False), ("Release", "release", True),
     ("86;89", " 89 ; 86 ", True)],
)
def test_cmake_values_the_same_in_effect(x: str, y: str, same: bool) -> None:
    assert builds.same_in_effect(x, y) is same
    assert builds.same_in_effect(y, x) is same


@pytest.mark.parametrize(
    ("key", "backend"),
    [("GGML_CUDA", "CUDA"), ("GGML_CUDA_FA", "CUDA"), ("GGML_HIP", "HIP"),
     ("GGML_VULKAN_DEBUG", "Vulkan"), ("GGML_AVX2", None), ("CMAKE_BUILD_TYPE", None)],
)
def test_an_option_belongs_to_the_backend_its_name_says(key: str, backend: str | None) -> None:
    found = builds.option_backend(key)
    assert (found.casefold() if found else None) == (backend.casefold() if backend else None)


def test_enabled_backends_come_from_the_list_and_the_switches() -> None:
    build = LlamaCppBuild(backends=["CPU"], build_flags={"GGML_CUDA": "ON", "GGML_HIP": "OFF",
                                                         "GGML_CUDA_FA": "ON"})
    assert builds.enabled_backends(build) == {"cpu", "cuda"}
