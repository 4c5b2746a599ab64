"""The KFD topology (/sys/class/kfd/kfd/topology/nodes/N/properties): an AMD GPU node's PCI
location, gfx target and compute units."""

from __future__ import annotations

import attrs

from envstamp.manifest.records import FrozenRecord
from envstamp.parsers.pci import bus_id_from_location, gfx_target
from envstamp.parsers.textutil import key_values, to_int


@attrs.frozen(eq=False, repr=False)
class KfdNode(FrozenRecord):
    """What the KFD topology says of one GPU node."""

    bus_id: str | None
    architecture: str | None
    compute_units: int | None


def parse_kfd_properties(text: str) -> KfdNode | None:
    """A GPU node of /sys/class/kfd/kfd/topology/nodes/N/properties; None for CPU nodes."""
    values = dict(key_values(text.splitlines(), sep=" "))
    architecture = gfx_target(values.get("gfx_target_version"))
    if architecture is None:
        return None
    simds, per_cu = to_int(values.get("simd_count")), to_int(values.get("simd_per_cu"))
    return KfdNode(
        bus_id=bus_id_from_location(values.get("domain", "0"), values.get("location_id")),
        architecture=architecture,
        compute_units=simds // per_cu if simds and per_cu else None,
    )
