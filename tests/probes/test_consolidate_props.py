"""probes/gpu/consolidate: one GPU list whatever the sources, as properties over generated
lists in which one device may be described several times (by UUID, by PCI bus id in either
spelling, by both) by sources of decreasing quality.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.manifest.model import Gpu
from envstamp.probes.gpu.consolidate import consolidate, normalize_bus_id

# Four physical devices: (uuid, bus id) each.
DEVICES = [
    ("GPU-5eed0000-0000-4000-8000-000000002000", "0000:00:06.0"),
    ("GPU-5eed0000-0000-4000-8000-000000002001", "0000:81:00.0"),
    ("GPU-2f6a1c9e-8b57-4d03-a9e1-5c0d7f3b6a21", "0001:c3:00.0"),
    ("GPU-aaaa0000-0000-4000-8000-00000000000a", "0000:0a:00.0"),
]
SOURCES = ["nvml", "nvidia-smi -q -x", "rocm-smi", "vulkaninfo", "drm"]


def spellings(bus: str) -> st.SearchStrategy[str]:
    """The ways tools print one bus id: nvidia-smi's 8-digit domain, upper case."""
    domain, rest = bus.split(":", 1)
    return st.sampled_from([bus, f"{int(domain, 16):08X}:{rest.upper()}", bus.upper()])


@st.composite
def sightings(draw: st.DrawFn) -> Gpu:
    """One source's entry for one device: UUID and bus id (both always: see the xfail)."""
    number = draw(st.integers(0, len(DEVICES) - 1))
    uuid, bus = DEVICES[number]
    return Gpu(
        index=number,
        name=draw(st.sampled_from([None, "NVIDIA H200", "H200"])),
        uuid=draw(st.sampled_from([uuid, uuid.upper()])),
        pci_bus_id=draw(spellings(bus)),
        memory_total_mib=draw(st.sampled_from([None, 143771])),
        driver_version=draw(st.sampled_from([None, "580.159.04"])),
        source=draw(st.sampled_from(SOURCES)),
    )


def device_of(gpu: Gpu) -> int:
    bus = normalize_bus_id(gpu.pci_bus_id or "")
    return next(n for n, (_, b) in enumerate(DEVICES) if b == bus)


@settings(max_examples=80)
@given(st.lists(sightings(), max_size=10))
def test_each_device_appears_once_in_first_seen_order(gpus: list[Gpu]) -> None:
    merged = consolidate(gpus)
    seen_order = list(dict.fromkeys(device_of(g) for g in gpus))
    assert [device_of(g) for g in merged] == seen_order


@settings(max_examples=80)
@given(st.lists(sightings(), max_size=10))
def test_the_first_source_wins_and_later_ones_fill_its_holes(gpus: list[Gpu]) -> None:
    for gpu in consolidate(gpus):
        mine = [g for g in gpus if device_of(g) == device_of(gpu)]
        first = mine[0]
        assert (gpu.source, gpu.uuid, gpu.pci_bus_id) == (first.source, first.uuid,
                                                          first.pci_bus_id)
        for field in ("name", "memory_total_mib", "driver_version"):
            known = [getattr(g, field) for g in mine if getattr(g, field) is not None]
            assert getattr(gpu, field) == (known[0] if known else None), field


@settings(max_examples=60)
@given(st.lists(sightings(), max_size=10))
def test_consolidating_twice_changes_nothing(gpus: list[Gpu]) -> None:
    once = consolidate(gpus)
    assert consolidate(once) == once


@settings(max_examples=100)
@given(st.lists(st.builds(Gpu, index=st.integers(0, 3), name=st.sampled_from(["a", "b"])),
                max_size=6))
def test_gpus_without_uuid_or_bus_id_are_never_merged(gpus: list[Gpu]) -> None:
    """Nothing says two of them are one device: each is kept, in order."""
    assert consolidate(gpus) == gpus


def test_bus_ids_of_every_spelling_normalise_alike() -> None:
    for _, bus in DEVICES:
        domain, rest = bus.split(":", 1)
        assert normalize_bus_id(f"{int(domain, 16):08x}:{rest}") == bus
        assert normalize_bus_id(bus.upper()) == bus
        assert normalize_bus_id(f"  {bus} ") == bus
    assert normalize_bus_id("01:00.0") == "01:00.0"  # no domain: kept as printed
    assert normalize_bus_id("PCI:0:2:0") == "pci:0:2:0"  # not a domain:bus:device.fn


def test_a_uuid_in_another_case_is_the_same_device() -> None:
    uuid = DEVICES[0][0]
    merged = consolidate([Gpu(uuid=uuid, source="nvml"),
                          Gpu(uuid=uuid.upper(), memory_total_mib=143771, source="smi")])
    assert len(merged) == 1 and merged[0].memory_total_mib == 143771


def test_same_bus_different_uuid_spelling_is_one_device() -> None:
    """Vulkan prints the device UUID without NVIDIA's "GPU-" prefix: the bus id joins them."""
    uuid, bus = DEVICES[1]
    merged = consolidate([Gpu(uuid=uuid, pci_bus_id=bus, source="nvml"),
                          Gpu(uuid=uuid[4:], pci_bus_id=bus, name="x", source="vulkaninfo")])
    assert [(g.uuid, g.name, g.source) for g in merged] == [(uuid, "x", "nvml")]


def test_a_device_seen_by_uuid_then_by_bus_then_by_both_is_one_entry() -> None:
    """Regression: the third sighting joined the first and the second was never revisited, so
    the manifest listed the GPU twice.  Identifiers now link transitively (union-find)."""
    uuid, bus = DEVICES[0]
    gpus = [Gpu(uuid=uuid, name="NVIDIA H200", source="nvidia-smi -L"),
            Gpu(pci_bus_id=bus, memory_total_mib=143771, source="drm"),
            Gpu(uuid=uuid, pci_bus_id="00000000:00:06.0", source="vulkaninfo")]
    merged = consolidate(gpus)
    assert [(g.uuid, g.pci_bus_id, g.name, g.memory_total_mib, g.source) for g in merged] == [
        (uuid, bus, "NVIDIA H200", 143771, "nvidia-smi -L")
    ]


def test_a_chain_of_sightings_keeps_the_devices_between_it_in_place() -> None:
    """A device linked only by a late sighting still sits where it was first seen, and the
    other devices keep their order around it."""
    (uuid_a, bus_a), (uuid_b, bus_b) = DEVICES[0], DEVICES[1]
    gpus = [Gpu(pci_bus_id=bus_a, source="drm"),
            Gpu(uuid=uuid_b, pci_bus_id=bus_b, source="nvml"),
            Gpu(uuid=uuid_a.upper(), name="NVIDIA H200", source="nvidia-smi -L"),
            Gpu(uuid=uuid_a, pci_bus_id=bus_a.upper(), driver_version="580.159.04",
                source="vulkaninfo")]
    merged = consolidate(gpus)
    assert [(g.pci_bus_id, g.uuid, g.name, g.driver_version) for g in merged] == [
        (bus_a, uuid_a.upper(), "NVIDIA H200", "580.159.04"),
        (bus_b, uuid_b, None, None),
    ]


@st.composite
def partial_sightings(draw: st.DrawFn) -> list[tuple[int, Gpu]]:
    """Sightings by UUID only, bus id only or both, in any order, with at least one sighting
    carrying both for each device seen (else nothing says the halves are one device)."""
    numbers = draw(st.lists(st.integers(0, len(DEVICES) - 1), min_size=1, max_size=4,
                            unique=True))
    seen: list[tuple[int, Gpu]] = []
    for number in numbers:
        uuid, bus = DEVICES[number]
        seen.append((number, Gpu(uuid=uuid, pci_bus_id=draw(spellings(bus)), source="both")))
        for keys in draw(st.lists(st.sampled_from(["uuid", "bus"]), max_size=3)):
            seen.append((number, Gpu(uuid=uuid if keys == "uuid" else None,
                                     pci_bus_id=draw(spellings(bus)) if keys == "bus" else None,
                                     source=keys)))
    return draw(st.permutations(seen))


@settings(max_examples=80)
@given(partial_sightings())
def test_sightings_linked_by_any_chain_of_identifiers_are_one_entry(
    seen: list[tuple[int, Gpu]],
) -> None:
    merged = consolidate([gpu for _, gpu in seen])
    first_seen = list(dict.fromkeys(number for number, _ in seen))
    assert len(merged) == len(first_seen)
    assert [g.source for g in merged] == [
        next(gpu.source for number, gpu in seen if number == device) for device in first_seen
    ]
    assert all(g.uuid and g.pci_bus_id for g in merged)  # the halves filled each other
    assert consolidate(merged) == merged
