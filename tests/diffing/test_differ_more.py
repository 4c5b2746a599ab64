"""Exact findings on the diff fixtures, compare across several inputs, setups of one log.

The two machines of ``tests/fixtures/diff`` (hand-made, README there) are diffed whole: every
finding with its rank, so a rule that moves shows here by name.  Compare and setups are
checked as data (rows, values, absent items, pairs), never as printed text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from envstamp.diffing import compare as compare_module
from envstamp.diffing import setups as setups_module
from envstamp.diffing.differ import as_document, diff, input_info, verification_of
from envstamp.diffing.manifests import distinct, rank_key
from envstamp.diffing.model import Difference
from envstamp.manifest.document import Document, Status, Verification
from envstamp.manifest.model import Manifest
from envstamp.manifest.serialize import with_digest
from envstamp.stamping.results import load_results
from tests.diff_support import (
    OLDER,
    RENDER_NODE,
    WORKSTATION,
    base,
    edit,
    edit_gpu,
    load,
    speed,
    write_log,
)

# (path, impact, category) of every difference, in the report's order.
WORKSTATION_TO_RENDER_NODE = [
    ("llamacpp[0].build", "high", "engine build"),
    ("gpus[0].power_limit_w", "high", "gpu"),
    ("frontends.ollama.server_version", "high", "frontend"),
    ("env.GGML_CUDA_NO_PINNED", "high", "env"),
    ("gpus[0].driver_version", "medium", "driver"),
    ("gpus[0].cuda_version", "medium", "driver"),
    ("runtimes.nvidia_driver", "medium", "driver"),
    ("runtimes.cuda_driver", "medium", "driver"),
    ("cpu.governor", "medium", "cpu"),
    ("gpus[0].vbios_version", "low", "gpu"),
    ("frontends.ollama.client_version", "low", "frontend"),
    ("cpu.microcode", "low", "cpu"),
    ("os.kernel", "low", "os"),
    ("gpus[0].uuid", "none", "gpu"),
    ("gpus[0].serial", "none", "gpu"),
    ("host.hostname", "none", "host"),
    ("host.machine_id", "none", "host"),
]
STATE_FOUND = [
    ("volatile.gpus[0].throttle_reasons", "high"),
    ("gpus[0].pcie_link", "medium"),
    ("volatile.gpus[0].temperature_c", "medium"),
    ("volatile.gpus[0].clocks_graphics_mhz", "medium"),
    ("volatile.gpus[0].clocks_sm_mhz", "medium"),
    ("volatile.gpus[0].clocks_memory_mhz", "medium"),
    ("volatile.gpus[0].utilization_gpu_pct", "medium"),
    ("volatile.gpus[0].memory_used_mib", "medium"),
    ("volatile.gpus[0].process_count", "medium"),
    ("volatile.load_1m", "medium"),
    ("gpus[0].pcie_gen_current", "low"),
    ("gpus[0].pcie_width_current", "low"),
    ("volatile.gpus[0].power_draw_w", "low"),
    ("volatile.gpus[0].pstate", "low"),
]


def _triples(found: list[Difference]) -> list[tuple[str, str, str]]:
    return [(d.path, d.impact, d.category) for d in found]


# ---------------------------------------------------------------------- the two machines


def test_every_finding_between_the_two_machines_in_rank_order() -> None:
    report = diff(WORKSTATION, RENDER_NODE)
    assert _triples(report.differences) == WORKSTATION_TO_RENDER_NODE
    assert [(d.path, d.impact) for d in report.state] == STATE_FOUND
    assert report.unknown == []
    assert report.counts == {"high": 4, "medium": 3, "low": 4, "none": 4}
    assert (report.max_impact, report.same_identity, report.same_digest) == ("high", False,
                                                                             False)


def test_the_values_behind_the_top_findings() -> None:
    found = {d.path: (d.a, d.b) for d in diff(WORKSTATION, RENDER_NODE).differences}
    assert found["gpus[0].power_limit_w"] == (450.0, 350.0)
    assert found["env.GGML_CUDA_NO_PINNED"] == ("1", None)  # unset on B, not unknown
    assert found["gpus[0].driver_version"] == ("550.54.14", "560.35.03")
    assert found["cpu.governor"] == ("performance", "powersave")


def test_a_driver_seen_in_two_sections_is_counted_once() -> None:
    report = diff(WORKSTATION, RENDER_NODE)
    medium = [d for d in report.differences if d.impact == "medium"]
    assert len(medium) == 5 and len(distinct(medium)) == report.counts["medium"] == 3


def test_the_machines_mirror_state_and_all() -> None:
    forward, backward = diff(WORKSTATION, RENDER_NODE), diff(RENDER_NODE, WORKSTATION)
    assert _triples(backward.differences) == _triples(forward.differences)
    assert [(d.path, d.a, d.b) for d in backward.state] == [
        (d.path, d.b, d.a) for d in forward.state]
    assert backward.counts == forward.counts


def test_an_older_manifest_adds_only_unknowns() -> None:
    report = diff(base(), load(OLDER))
    assert report.differences == report.state == []
    assert report.counts == {"high": 0, "medium": 0, "low": 0, "none": 0}
    unknown = report.unknown
    assert [rank_key(d) for d in unknown] == sorted(rank_key(d) for d in unknown)
    assert all(d.b is None and d.a is not None for d in unknown)  # known on A only
    assert {"llamacpp[0].target", "os.wsl", "gpus[0].pci_device_id"} <= {d.path for d in unknown}
    backward = diff(load(OLDER), base())
    assert sorted(d.path for d in backward.unknown) == sorted(d.path for d in unknown)


@pytest.mark.parametrize(
    ("change", "path", "impact"),
    [({"power_limit_w": 300.0}, "gpus[0].power_limit_w", "high"),
     ({"power_limit_w": 455.0}, None, None),  # within 2 %: the same limit
     ({"driver_version": "560.35.03"}, "gpus[0].driver_version", "medium"),
     ({"vbios_version": "95.02.3C.40.FF"}, "gpus[0].vbios_version", "low")],
)
def test_one_planted_gpu_change_is_found_alone(
    change: dict[str, Any], path: str | None, impact: str | None
) -> None:
    report = diff(base(), edit_gpu(base(), **change))
    assert [(d.path, d.impact) for d in report.differences] == (
        [] if path is None else [(path, impact)])


def test_an_env_setting_set_changed_and_removed() -> None:
    plain = base()
    added = attrs.evolve(plain, env={**plain.env, "GGML_CUDA_FORCE_MMQ": "1"})
    changed = attrs.evolve(plain, env={**added.env, "GGML_CUDA_FORCE_MMQ": "0"})
    (found,) = diff(plain, added).differences
    assert (found.path, found.a, found.b) == ("env.GGML_CUDA_FORCE_MMQ", None, "1")
    (found,) = diff(added, changed).differences
    assert (found.a, found.b) == ("1", "0")
    assert diff(added, plain).differences[0].b is None


# -------------------------------------------------------------------------- verification


@pytest.mark.parametrize(
    ("status", "expected"),
    [(Status.VERIFIED, "verified"), (Status.UNSIGNED, "unsigned"),
     (Status.INVALID, "failed"), (Status.EDITED, "failed"),
     (Status.PARTLY_SIGNED, "not verified"), (Status.NOT_CHECKED, "not verified")],
)
def test_each_loader_status_reads_as_one_diff_verification(status: Status, expected: str) -> None:
    doc = Document("manifest", base(), "m.json", verification=Verification(status))
    assert verification_of(doc) == expected
    info = input_info(doc, "A")
    assert (info.verification, info.side, info.source) == (expected, "A", "m.json")


def test_an_edited_manifest_file_reads_as_failed(tmp_path: Path) -> None:
    # the hostname changed after capture: the stored identity digest no longer matches
    text = WORKSTATION.read_text(encoding="utf-8").replace('"tensorbox"', '"tensorbox-2"', 1)
    edited = tmp_path / "edited.json"
    edited.write_text(text, encoding="utf-8")
    report = diff(edited, WORKSTATION)
    assert report.a is not None and report.a.verification == "failed"
    assert report.b is not None and report.b.verification == "unsigned"
    assert [d.path for d in report.differences] == ["host.hostname"]


def test_a_manifest_object_is_its_own_document() -> None:
    manifest = base()
    doc = as_document(manifest)
    assert doc.manifest is manifest and doc.kind == "manifest"
    same = Document("manifest", manifest, "x")
    assert as_document(same) is same


# -------------------------------------------------------------------------------- compare


def test_compare_rows_hold_every_inputs_value() -> None:
    second = edit_gpu(base(), driver_version="560.35.03")
    third = edit_gpu(edit(base(), "cpu", governor="powersave"), driver_version="560.35.03")
    report = compare_module.compare([base(), second, third])
    rows = {row.path: row for row in report.rows}
    assert rows["gpus[0].driver_version"].values == ["550.54.14", "560.35.03", "560.35.03"]
    assert rows["cpu.governor"].values == ["performance", "performance", "powersave"]
    assert report.only_difference is None
    identity = [r for r in report.rows if not r.state and not r.unknown]
    assert [rank_key(compare_module._as_diff(r)) for r in identity] == sorted(
        rank_key(compare_module._as_diff(r)) for r in identity)


def test_compare_names_the_one_component_that_varies() -> None:
    drivers = ["550.54.14", "555.42.02", "560.35.03"]
    inputs = [attrs.evolve(edit_gpu(base(), driver_version=v),
                           runtimes=attrs.evolve(base().runtimes, nvidia_driver=v))
              for v in drivers]
    report = compare_module.compare(inputs)
    assert report.only_difference is not None
    assert all(v in report.only_difference for v in drivers)
    assert {r.component for r in report.rows if not r.state} == {"GPU driver"}


def test_compare_marks_an_input_that_lacks_the_item() -> None:
    no_gpu = attrs.evolve(base(), gpus=[])
    report = compare_module.compare([base(), no_gpu, base()])
    gpu_rows = [r for r in report.rows if r.path.startswith("gpus[0]")]
    assert gpu_rows and all(r.absent == [1] for r in gpu_rows)
    assert all(r.values[1] is None for r in gpu_rows)


def test_compare_of_identical_inputs_has_no_rows() -> None:
    report = compare_module.compare([base(), base(), base()])
    assert report.rows == [] and report.only_difference is None


def test_compare_needs_two_inputs() -> None:
    with pytest.raises(ValueError):
        compare_module.compare([base()])


@pytest.mark.parametrize(
    ("path", "items"),
    [("llamacpp[0].devices[1].name", ["llamacpp[0]", "llamacpp[0].devices[1]"]),
     ("gpus[uuid=GPU-1].power_limit_w", ["gpus[uuid=GPU-1]"]),
     ("env.GGML_X", []), ("models[a.gguf]", ["models[a.gguf]"])],
)
def test_item_paths_are_the_items_a_path_lies_in(path: str, items: list[str]) -> None:
    assert compare_module.item_paths(path) == items


# ------------------------------------------------------------------------------- setups


def _threads(manifest: Manifest, threads: str) -> Manifest:
    # with its own identity digest, as a capture under that setting writes it
    return with_digest(attrs.evolve(manifest, env={**manifest.env, "OMP_NUM_THREADS": threads}))


def test_results_of_one_log_group_by_setup_in_first_use_order(tmp_path: Path) -> None:
    m1, m2 = base(), _threads(base(), "3")
    path = write_log(tmp_path / "log.jsonl", [
        (m1, [speed("tg128", [50.0, 51.0, 49.0])]),
        (m2, [speed("tg128", [40.0, 41.0, 39.0])]),
        (m1, [speed("pp512", [900.0, 910.0, 890.0])]),
    ])
    loaded = load_results(path)
    groups = setups_module.group_setups(loaded)
    assert [g.index for g in groups] == [1, 2]
    assert [[r.name for r in g.results] for g in groups] == [["tg128", "pp512"], ["tg128"]]
    described = setups_module.describe_setups(groups, "A")
    assert [s.results for s in described] == [2, 1]
    assert described[0].changes == []
    assert described[1].changes and described[1].changes[0].startswith("env.OMP_NUM_THREADS")


def test_two_captures_of_one_machine_are_one_setup() -> None:
    again = with_digest(attrs.evolve(base(), captured_at="2026-12-01T00:00:00Z",
                                     volatile=attrs.evolve(base().volatile, load_1m=7.5)))
    renamed = with_digest(edit(base(), "host", hostname="tensorbox-2"))
    own = with_digest(base()).identity_digest
    assert again.identity_digest == own  # readings of the moment are no identity
    assert renamed.identity_digest != own
    assert setups_module.same_setup(base(), again)
    assert setups_module.same_setup(base(), renamed)  # a difference of impact none
    assert not setups_module.same_setup(base(), _threads(base(), "3"))


def test_each_setup_is_paired_with_the_most_alike_of_the_other_side() -> None:
    a = [setups_module.SetupGroup(1, base()), setups_module.SetupGroup(2, _threads(base(), "3"))]
    b = [setups_module.SetupGroup(1, _threads(base(), "3"))]
    assert setups_module.pair_setups(a, b) == [(0, 0), (1, 0)]
    assert setups_module.pair_setups(b, a) == [(0, 0), (0, 1)]
    assert setups_module.pair_setups(a, []) == []


def test_a_diff_of_logs_compares_results_setup_by_setup(tmp_path: Path) -> None:
    m1, m2 = base(), _threads(base(), "3")
    log_a = write_log(tmp_path / "a.jsonl", [(m1, [speed("tg128", [50.0, 51.0, 49.0])]),
                                             (m2, [speed("tg128", [40.0, 41.0, 39.0])])])
    log_b = write_log(tmp_path / "b.jsonl", [(m2, [speed("tg128", [20.0, 21.0, 19.0])])])
    report = diff(log_a, log_b)
    assert [(s.side, s.index, s.paired_with) for s in report.setups] == [
        ("A", 1, [1]), ("A", 2, [1])]
    by_setup = {t.setup_a: t for t in report.tests}
    assert by_setup[2].ratio == 0.5 and by_setup[1].ratio == 0.4
    # the headline's pair is the biggest gap: setup 1 of A, whose manifest differs in threads
    assert report.setup_a == 1
    assert [d.path for d in report.differences] == ["env.OMP_NUM_THREADS"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("only on A: ./llama-bench", "only in setup 1: ./llama-bench"),
     ("b3447 -> b4589 (1142 builds apart, B newer)",
      "b3447 -> b4589 (1142 builds apart, setup 2 newer)"),
     ("only in A's version", "only in setup 1's version"),
     ("on B: x", "in setup 2: x"), ("BOB on Azure", "BOB on Azure")],
)
def test_a_diffs_sides_are_named_as_setups(text: str, expected: str) -> None:
    assert setups_module.name_sides(text, ("setup 1", "setup 2")) == expected


# ------------------------------------------------------------------------ the PCIe link


def _link(gen: int | None, width: int | None, gen_max: int | None = 4,
          width_max: int | None = 16) -> Manifest:
    return edit_gpu(base(), pcie_gen_current=gen, pcie_width_current=width,
                    pcie_gen_max=gen_max, pcie_width_max=width_max)


@pytest.mark.parametrize(
    ("a", "b", "found"),
    [((4, 16), (1, 8), True), ((4, 16), (4, 8), True), ((4, 16), (3, 16), True),
     ((1, 8), (2, 8), False),  # below its maximum on both sides: no news
     ((4, 16), (4, 16), False), ((None, None), (1, 8), False)],  # unknown on A: nothing said
)
def test_a_link_below_its_maximum_on_one_side_only_is_a_state_finding(
    a: tuple[int | None, int | None], b: tuple[int | None, int | None], found: bool
) -> None:
    report = diff(_link(*a), _link(*b))
    links = [d for d in report.state if d.path == "gpus[0].pcie_link"]
    assert bool(links) is found
    assert all(d.pattern != "gpus[].pcie_link" for d in report.differences)
    if links:
        (link,) = links
        assert (link.impact, link.category, link.state) == ("medium", "gpu", True)
        (mirrored,) = [d for d in diff(_link(*b), _link(*a)).state
                       if d.path == "gpus[0].pcie_link"]
        assert (mirrored.a, mirrored.b) == (link.b, link.a)


def test_a_link_whose_maximum_is_unknown_is_never_below_it() -> None:
    report = diff(_link(4, 16, None, None), _link(1, 8, None, None))
    assert [d.path for d in report.state if d.path.endswith("pcie_link")] == []
