"""parsers/nvidia_smi_text: ``--query-gpu`` CSV written for generated GPUs, with any selection
and order of fields, with units or ``nounits``, reads back field by field; and the real H200's
default table and CSV (tests/fixtures/nvidia/real-h200-580) agree on its readings of the moment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers import nvidia_smi_text

REAL = Path(__file__).parents[1] / "fixtures" / "nvidia" / "real-h200-580"

# query field -> (unit nvidia-smi prints in the header and after values, Gpu attribute,
# values, how nvidia-smi prints one)
FIELDS: dict[str, tuple[str | None, str, st.SearchStrategy[Any], Any]] = {
    "name": (None, "name", st.sampled_from(["NVIDIA H200", "NVIDIA GeForce RTX 4090",
                                            "Tesla V100-SXM2-16GB"]), str),
    "uuid": (None, "uuid", st.uuids().map(lambda u: f"GPU-{u}"), str),
    "serial": (None, "serial", st.integers(10**12, 10**13 - 1).map(str), str),
    "pci.bus_id": (None, "pci_bus_id", st.integers(1, 255).map(
        lambda b: f"00000000:{b:02X}:00.0"), str),
    "memory.total": ("MiB", "memory_total_mib", st.integers(1024, 200_000), str),
    "driver_version": (None, "driver_version", st.sampled_from(["580.159.04", "535.161.08"]),
                       str),
    "vbios_version": (None, "vbios_version", st.sampled_from(["96.00.A5.00.1A"]), str),
    "power.limit": ("W", "power_limit_w", st.integers(70, 1000).map(float), "{:.2f}".format),
    "clocks.max.graphics": ("MHz", "clocks_max_graphics_mhz", st.integers(500, 3000), str),
    "pcie.link.gen.max": (None, "pcie_gen_max", st.integers(1, 6), str),
    "pcie.link.width.max": (None, "pcie_width_max", st.sampled_from([1, 4, 8, 16]), str),
    "persistence_mode": (None, "persistence_mode", st.booleans(),
                         lambda b: "Enabled" if b else "Disabled"),
    "ecc.mode.current": (None, "ecc_enabled", st.booleans(),
                         lambda b: "Enabled" if b else "Disabled"),
}
STATE_FIELDS: dict[str, tuple[str | None, str, st.SearchStrategy[Any], Any]] = {
    "temperature.gpu": (None, "temperature_c", st.integers(20, 95).map(float), "{:.0f}".format),
    "utilization.gpu": ("%", "utilization_gpu_pct", st.integers(0, 100).map(float),
                        "{:.0f}".format),
    "memory.used": ("MiB", "memory_used_mib", st.integers(0, 100_000), str),
    "pstate": (None, "pstate", st.sampled_from(["P0", "P2", "P8"]), str),
}
ALL = {**FIELDS, **STATE_FIELDS}


@st.composite
def query_outputs(draw: st.DrawFn) -> tuple[str, list[str], list[dict[str, Any]]]:
    """The CSV of a query: its text, the fields asked and each GPU's values."""
    fields = draw(st.lists(st.sampled_from(sorted(ALL)), min_size=1, max_size=8, unique=True))
    if draw(st.booleans()):
        fields = ["index", *fields]
    nounits = draw(st.booleans())
    gpus = [{f: draw(ALL[f][2]) for f in fields if f != "index"}
            for _ in range(draw(st.integers(1, 4)))]
    header = ", ".join(
        f if f == "index" or ALL[f][0] is None or nounits else f"{f} [{ALL[f][0]}]"
        for f in fields
    )
    rows = []
    for number, gpu in enumerate(gpus):
        cells = []
        for field in fields:
            if field == "index":
                cells.append(str(number))
                continue
            unit, _, _, printed = ALL[field]
            cell = printed(gpu[field])
            cells.append(cell if unit is None or nounits else f"{cell} {unit}")
        rows.append(", ".join(cells))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join([header, *rows]) + newline, fields, gpus


@settings(max_examples=120, deadline=None)
@given(query_outputs())
def test_any_query_reads_back_field_by_field(
    case: tuple[str, list[str], list[dict[str, Any]]],
) -> None:
    text, _, expected = case
    gpus, states = nvidia_smi_text.parse_csv(text)
    assert [g.index for g in gpus] == list(range(len(expected)))
    assert [s.index for s in states] == list(range(len(expected)))
    for gpu, state, values in zip(gpus, states, expected, strict=True):
        assert gpu.vendor == "nvidia" and gpu.source == "nvidia-smi --query-gpu"
        for field, value in values.items():
            attribute = ALL[field][1]
            target = state if field in STATE_FIELDS else gpu
            assert getattr(target, attribute) == value, field


@settings(max_examples=60, deadline=None)
@given(query_outputs())
def test_the_kind_names_the_driver_and_keeps_only_states_with_readings(
    case: tuple[str, list[str], list[dict[str, Any]]],
) -> None:
    text, fields, expected = case
    sections = nvidia_smi_text.parse_csv_kind(text)
    drivers = {g["driver_version"] for g in expected if "driver_version" in g}
    if drivers:
        assert sections["runtimes"].nvidia_driver == expected[0]["driver_version"]
    else:
        assert "runtimes" not in sections
    if not set(fields) & set(STATE_FIELDS):
        assert "volatile" not in sections  # an index alone is no reading
    else:
        assert len(sections["volatile"].gpus) == len(expected)


@pytest.mark.parametrize("cell", ["[N/A]", "N/A", "[Not Supported]", "[Unknown Error]", ""])
def test_cells_that_say_unknown_are_null(cell: str) -> None:
    text = f"index, name, memory.total [MiB], power.limit [W]\n0, NVIDIA A2, {cell}, {cell}\n"
    (gpu,), _ = nvidia_smi_text.parse_csv(text)
    assert (gpu.name, gpu.memory_total_mib, gpu.power_limit_w) == ("NVIDIA A2", None, None)


def test_a_zero_limit_is_not_reported_not_a_fact() -> None:
    (gpu,), _ = nvidia_smi_text.parse_csv("index, power.limit [W], pcie.link.gen.max\n"
                                          "0, 0.00 W, 0\n")
    assert (gpu.power_limit_w, gpu.pcie_gen_max) == (None, None)


def test_rows_that_say_nothing_are_skipped_and_indexes_kept() -> None:
    text = "index, name\n0, NVIDIA L4\n[N/A], [N/A]\n2, NVIDIA L4\n"
    gpus, _ = nvidia_smi_text.parse_csv(text)
    assert [g.index for g in gpus] == [0, 2]


def test_nvidia_smis_own_failure_is_the_error() -> None:
    failure = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
               "Make sure that the latest NVIDIA driver is installed and running.\n")
    for parse in (nvidia_smi_text.parse_csv, nvidia_smi_text.parse_list,
                  nvidia_smi_text.parse_table, nvidia_smi_text.parse_version):
        with pytest.raises(ParseError, match="couldn't communicate"):
            parse(failure)


def test_no_devices_is_an_empty_list_not_an_error() -> None:
    assert nvidia_smi_text.parse_list("No devices were found\n") == []
    gpus, states, driver, cuda = nvidia_smi_text.parse_table("No devices were found\n")
    assert (gpus, states, driver, cuda) == ([], [], None, None)


# --------------------------------------------------------------------- the real H200


def real(name: str) -> str:
    return (REAL / name).read_text(encoding="utf-8")


def test_the_real_tables_readings_of_the_moment() -> None:
    """Read off tests/fixtures/nvidia/real-h200-580/table.txt by eye."""
    (gpu,), (state,), driver, cuda = nvidia_smi_text.parse_table(real("table.txt"))
    assert (driver, cuda) == ("580.159.04", "13.0")
    assert (gpu.index, gpu.pci_bus_id) == (0, "00000000:00:06.0")
    assert (state.temperature_c, state.pstate, state.power_draw_w) == (36.0, "P0", 80.0)
    assert (state.memory_used_mib, state.utilization_gpu_pct, state.fan_pct) == (0, 0.0, None)


def test_the_real_table_and_csv_agree_on_what_both_carry() -> None:
    (table_gpu,), (table_state,), _, _ = nvidia_smi_text.parse_table(real("table.txt"))
    (csv_gpu,), (csv_state,) = nvidia_smi_text.parse_csv(real("query-gpu.csv"))
    for field in ("index", "name", "pci_bus_id", "memory_total_mib", "power_limit_w",
                  "persistence_mode", "mig_mode", "driver_version"):
        assert getattr(table_gpu, field) == getattr(csv_gpu, field), field
    for field in ("temperature_c", "pstate", "memory_used_mib", "utilization_gpu_pct"):
        assert getattr(table_state, field) == getattr(csv_state, field), field


def test_the_real_list_and_version_outputs() -> None:
    (gpu,) = nvidia_smi_text.parse_list(real("L.txt"))
    assert (gpu.index, gpu.name, gpu.uuid) == (0, "NVIDIA H200",
                                               "GPU-5eed0000-0000-4000-8000-000000002000")
    runtimes = nvidia_smi_text.parse_version(real("version.txt"))
    assert (runtimes.nvidia_driver, runtimes.cuda_driver) == ("580.159.04", "13.0")
