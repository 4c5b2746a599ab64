"""Pure parsers of nvidia-smi's outputs; the parse kinds ``nvidia-smi-*`` live here.

``nvidia-smi -q -x`` (XML) and ``nvidia-smi -q`` (indented text) describe the same tree, so both
are read into one small :class:`Node` tree and looked up with per-format path tables.  The
other formats (``-L``, ``--version``, ``--query-gpu`` CSV and the default table) are in
:mod:`envstamp.parsers.nvidia_smi_text`; their kind functions are re-exported here.

Readings of the moment go to ``{"volatile": Volatile(gpus=[GpuState...])}``, never into Gpu.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import attrs

from envstamp.errors import ParseError
from envstamp.manifest.model import Gpu, GpuState, Runtimes, Sections, Volatile
from envstamp.parsers.nvidia_smi_text import (
    parse_csv_kind,
    parse_list_kind,
    parse_table_kind,
    parse_version_kind,
)
from envstamp.parsers.nvidia_values import (
    DRIVER_FAILURE,
    build_gpu,
    build_state,
    driver_failure,
    first_version,
    state_is_empty,
    throttle_name,
    value,
)

__all__ = [
    "Node",
    "SmiReport",
    "parse_csv_kind",
    "parse_list_kind",
    "parse_q",
    "parse_q_kind",
    "parse_table_kind",
    "parse_version_kind",
    "parse_xml",
    "parse_xml_kind",
    "report_sections",
]

SOURCE_XML = "nvidia-smi -q -x"
SOURCE_Q = "nvidia-smi -q"
_MAX_DEPTH = 16  # nvidia-smi nests 6 deep; deeper input is not nvidia-smi's


@attrs.define
class Node:
    """One element of the -q / -q -x tree: a key, its printed value, and children."""

    key: str
    value: str | None = None
    children: list[Node] = attrs.field(factory=list)

    def find(self, path: Sequence[str]) -> Node | None:
        """The first descendant along ``path`` (keys compared case- and space-insensitively)."""
        node: Node | None = self
        for key in path:
            if node is None:
                return None
            wanted = _norm(key)
            node = next((c for c in node.children if _norm(c.key) == wanted), None)
        return node

    def text(self, *paths: Sequence[str]) -> str | None:
        """The value at the first of ``paths`` that holds a non-null one."""
        for path in paths:
            node = self.find(path)
            if node is not None and value(node.value) is not None:
                return node.value
        return None


def _norm(key: str) -> str:
    return " ".join(key.lower().split())


@attrs.define
class SmiReport:
    """What one -q / -q -x report holds."""

    gpus: list[Gpu]
    states: list[GpuState]
    driver_version: str | None
    cuda_version: str | None


def report_sections(report: SmiReport, *, volatile: bool = True) -> Sections:
    """The manifest fragment of a report: gpus, runtimes and (optionally) volatile readings."""
    sections: Sections = {"gpus": report.gpus}
    if report.driver_version or report.cuda_version:
        sections["runtimes"] = Runtimes(
            nvidia_driver=report.driver_version, cuda_driver=report.cuda_version
        )
    states = [s for s in report.states if not state_is_empty(s)]
    if volatile and states:
        sections["volatile"] = Volatile(gpus=states)
    return sections


# ------------------------------------------------------------------------- field paths

# Each canonical field: alternative paths below a GPU node, tried in order.
Paths = tuple[tuple[str, ...], ...]

_XML_POWER = ("gpu_power_readings", "power_readings")
_Q_POWER = ("GPU Power Readings", "Power Readings")

_XML_GPU: dict[str, Paths] = {
    "name": (("product_name",),),
    "architecture": (("product_architecture",),),
    "uuid": (("uuid",),),
    "serial": (("serial",),),
    "pci_bus_id": (("pci", "pci_bus_id"),),
    "pci_device_id": (("pci", "pci_device_id"),),
    "memory_total_mib": (("fb_memory_usage", "total"),),
    "vbios_version": (("vbios_version",),),
    "compute_capability": (("compute_capability",), ("cuda_compute_capability",)),
    "power_limit_w": tuple(
        (group, key)
        for key in ("current_power_limit", "power_limit", "enforced_power_limit")
        for group in _XML_POWER
    ),
    "power_default_limit_w": tuple((g, "default_power_limit") for g in _XML_POWER),
    "power_max_limit_w": tuple((g, "max_power_limit") for g in _XML_POWER),
    "clocks_max_graphics_mhz": (("max_clocks", "graphics_clock"),),
    "clocks_max_memory_mhz": (("max_clocks", "mem_clock"),),
    "pcie_gen_max": (("pci", "pci_gpu_link_info", "pcie_gen", "max_link_gen"),),
    "pcie_gen_current": (("pci", "pci_gpu_link_info", "pcie_gen", "current_link_gen"),),
    "pcie_width_max": (("pci", "pci_gpu_link_info", "link_widths", "max_link_width"),),
    "pcie_width_current": (("pci", "pci_gpu_link_info", "link_widths", "current_link_width"),),
    "persistence_mode": (("persistence_mode",),),
    "mig_mode": (("mig_mode", "current_mig"),),
    "ecc_enabled": (("ecc_mode", "current_ecc"),),
}

_XML_STATE: dict[str, Paths] = {
    "uuid": (("uuid",),),
    "temperature_c": (("temperature", "gpu_temp"),),
    "utilization_gpu_pct": (("utilization", "gpu_util"),),
    "utilization_memory_pct": (("utilization", "memory_util"),),
    "clocks_graphics_mhz": (("clocks", "graphics_clock"),),
    "clocks_sm_mhz": (("clocks", "sm_clock"),),
    "clocks_memory_mhz": (("clocks", "mem_clock"),),
    "power_draw_w": tuple(
        (group, key)
        for key in ("power_draw", "instant_power_draw", "average_power_draw")
        for group in _XML_POWER
    ),
    "memory_used_mib": (("fb_memory_usage", "used"),),
    "pstate": (("performance_state",),),
    "fan_pct": (("fan_speed",),),
}

_Q_GPU: dict[str, Paths] = {
    "name": (("Product Name",),),
    "architecture": (("Product Architecture",),),
    "uuid": (("GPU UUID",),),
    "serial": (("Serial Number",),),
    "pci_bus_id": (("PCI", "Bus Id"),),
    "pci_device_id": (("PCI", "Device Id"),),
    "memory_total_mib": (("FB Memory Usage", "Total"),),
    "vbios_version": (("VBIOS Version",),),
    "compute_capability": (("CUDA Compute Capability",), ("Compute Capability",)),
    "power_limit_w": tuple(
        (group, key)
        for key in ("Current Power Limit", "Power Limit", "Enforced Power Limit")
        for group in _Q_POWER
    ),
    "power_default_limit_w": tuple((g, "Default Power Limit") for g in _Q_POWER),
    "power_max_limit_w": tuple((g, "Max Power Limit") for g in _Q_POWER),
    "clocks_max_graphics_mhz": (("Max Clocks", "Graphics"),),
    "clocks_max_memory_mhz": (("Max Clocks", "Memory"),),
    "pcie_gen_max": (("PCI", "GPU Link Info", "PCIe Generation", "Max"),),
    "pcie_gen_current": (("PCI", "GPU Link Info", "PCIe Generation", "Current"),),
    "pcie_width_max": (("PCI", "GPU Link Info", "Link Width", "Max"),),
    "pcie_width_current": (("PCI", "GPU Link Info", "Link Width", "Current"),),
    "persistence_mode": (("Persistence Mode",),),
    "mig_mode": (("MIG Mode", "Current"),),
    "ecc_enabled": (("ECC Mode", "Current"),),
}

_Q_STATE: dict[str, Paths] = {
    "uuid": (("GPU UUID",),),
    "temperature_c": (("Temperature", "GPU Current Temp"),),
    "utilization_gpu_pct": (("Utilization", "GPU"),),
    "utilization_memory_pct": (("Utilization", "Memory"),),
    "clocks_graphics_mhz": (("Clocks", "Graphics"),),
    "clocks_sm_mhz": (("Clocks", "SM"),),
    "clocks_memory_mhz": (("Clocks", "Memory"),),
    "power_draw_w": tuple(
        (group, key)
        for key in ("Power Draw", "Instantaneous Power Draw", "Average Power Draw")
        for group in _Q_POWER
    ),
    "memory_used_mib": (("FB Memory Usage", "Used"),),
    "pstate": (("Performance State",),),
    "fan_pct": (("Fan Speed",),),
}

_XML_THROTTLE = ("clocks_event_reasons", "clocks_throttle_reasons", "clocks_throttle")
_Q_THROTTLE = ("Clocks Event Reasons", "Clocks Throttle Reasons", "Clocks Throttle")


def _lookup(node: Node, table: dict[str, Paths]) -> dict[str, str | None]:
    return {name: node.text(*paths) for name, paths in table.items()}


def _throttle(node: Node, groups: Sequence[str]) -> list[str]:
    """Reasons printed "Active" in the clocks event/throttle block (nested ones included)."""
    for group in groups:
        block = node.find((group,))
        if block is not None:
            return [
                name
                for child in _walk(block)
                if _norm(child.value or "") == "active" and (name := throttle_name(child.key))
            ]
    return []


def _walk(node: Node) -> Iterator[Node]:
    for child in node.children:
        yield child
        yield from _walk(child)


def _process_count(node: Node, *, xml: bool) -> int | None:
    """Compute processes (type C or C+G) listed for the GPU; None when not listed."""
    block = node.find(("processes",))
    if block is None:
        return None
    entries = (
        [p for p in block.children if _norm(p.key) == "process_info"]
        if xml
        else [p for p in block.children if _norm(p.key) == "process id"]
    )
    kinds = [value(e.text(("type",))) for e in entries]
    return sum(1 for kind in kinds if kind is None or "C" in kind.upper())


def _gpu_and_state(
    node: Node, *, index: int, header_bus: str | None, driver: str | None, cuda: str | None,
    xml: bool,
) -> tuple[Gpu, GpuState]:
    raw: dict[str, object] = dict(_lookup(node, _XML_GPU if xml else _Q_GPU))
    raw.update(index=index, driver_version=driver, cuda_version=cuda)
    if raw.get("pci_bus_id") is None:
        raw["pci_bus_id"] = header_bus
    gpu = build_gpu(raw, SOURCE_XML if xml else SOURCE_Q)
    state_raw: dict[str, object] = dict(_lookup(node, _XML_STATE if xml else _Q_STATE))
    state_raw.update(index=index, process_count=_process_count(node, xml=xml))
    throttle = _throttle(node, _XML_THROTTLE if xml else _Q_THROTTLE)
    return gpu, build_state(state_raw, throttle)


def _header_versions(root: Node, *, xml: bool) -> tuple[str | None, str | None]:
    """Driver and CUDA versions from the report header, old and 610+ labels alike."""
    if xml:
        driver = ("kmd_version", "driver_version")
        cuda = ("cuda_umd_version", "cuda_version")
    else:
        driver = ("KMD Version", "Driver Version")
        cuda = ("CUDA UMD Version", "CUDA Version")
    return (
        first_version(root.text((k,)) for k in driver),
        first_version(root.text((k,)) for k in cuda),
    )


def _report(
    root: Node, gpus: list[tuple[Node, str | None]], *, xml: bool
) -> SmiReport:
    driver, cuda = _header_versions(root, xml=xml)
    built = [
        _gpu_and_state(node, index=i, header_bus=bus, driver=driver, cuda=cuda, xml=xml)
        for i, (node, bus) in enumerate(gpus)
    ]
    return SmiReport(
        gpus=[g for g, _ in built],
        states=[s for _, s in built],
        driver_version=driver,
        cuda_version=cuda,
    )


# --------------------------------------------------------------------------------- XML


def parse_xml(text: str) -> SmiReport:
    """``nvidia-smi -q -x``: every DTD version; a file cut off mid-way keeps its whole GPUs."""
    failure = driver_failure(text)
    start = _xml_start(text)
    if start is None:
        raise ParseError(failure or "not nvidia-smi XML (no <nvidia_smi_log>)")
    root, complete = _xml_tree(text[start:])
    gpus = [(c, c.value) for c in root.children if c.key == "gpu"]
    if not gpus and root.text(("driver_version",), ("kmd_version",)) is None:
        state = "incomplete" if not complete else "without GPUs or a driver version"
        raise ParseError(f"nvidia-smi XML {state}")
    return _report(root, gpus, xml=True)


def _xml_start(text: str) -> int | None:
    for marker in ("<?xml", "<!DOCTYPE nvidia_smi_log", "<nvidia_smi_log"):
        found = text.find(marker)
        if found >= 0:
            return found
    return None


def _xml_tree(text: str) -> tuple[Node, bool]:
    """The root and its complete children; parsing stops quietly where the text breaks."""
    from xml.etree.ElementTree import Element, XMLPullParser
    from xml.etree.ElementTree import ParseError as XmlError

    parser: XMLPullParser[Element] = XMLPullParser(events=("start", "end"))
    complete = True
    try:
        parser.feed(text)
        parser.close()
    except XmlError:
        complete = False
    root = Node("nvidia_smi_log")
    depth = 0
    events: Iterator[tuple[str, Element]] = parser.read_events()  # type: ignore[assignment]
    while True:
        try:
            event, element = next(events)
        except StopIteration:
            break
        except XmlError:
            complete = False
            break
        depth += 1 if event == "start" else -1
        if event == "start" and depth == 1 and element.tag != "nvidia_smi_log":
            raise ParseError(f"not nvidia-smi XML (root <{element.tag[:40]}>)")
        if event == "end" and depth == 1:
            root.children.append(_xml_node(element, 1))
            element.clear()
    if depth == 0 and not root.children:
        raise ParseError("not nvidia-smi XML (no elements)")
    return root, complete


def _xml_node(element: object, depth: int) -> Node:
    from xml.etree.ElementTree import Element

    assert isinstance(element, Element)
    text = (element.text or "").strip() or None
    if element.tag == "gpu":
        text = element.get("id") or text
    node = Node(str(element.tag), text)
    if depth < _MAX_DEPTH:
        node.children = [_xml_node(child, depth + 1) for child in element]
    return node


def parse_xml_kind(text: str) -> Sections:
    """Kind ``nvidia-smi-xml``."""
    return report_sections(parse_xml(text))


# ----------------------------------------------------------------------------------- -q

_Q_LINE = re.compile(r"^(?P<key>.+?)\s*:(?:\s+(?P<value>.*))?$")
_Q_GPU_HEADER = re.compile(
    r"^GPU\s+(?P<bus>[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])\s*$"
)


# nvidia-smi -q's banner ("==============NVSMI LOG==============").
_Q_BANNER = re.compile(r"^\s*=+\s*NVSMI\s+LOG\s*=+\s*$", re.MULTILINE | re.IGNORECASE)


def parse_q(text: str) -> SmiReport:
    """``nvidia-smi -q``: the indented key : value report, one "GPU <bus id>" block per GPU.

    Its header (the driver and CUDA versions) is read only where the text is nvidia-smi's:
    GPU blocks, its "NVSMI LOG" banner or its "Attached GPUs" line.  Another tool's
    "Driver version: 6.8.5" (rocm-smi's amdgpu) is not the NVIDIA driver."""
    root = _q_tree(text)
    gpus: list[tuple[Node, str | None]] = []
    for child in root.children:
        match = _Q_GPU_HEADER.match(child.key)
        if match:
            gpus.append((child, match.group("bus")))
    own_header = bool(_Q_BANNER.search(text)) or root.text(("Attached GPUs",)) is not None
    driver_known = root.text(("Driver Version",), ("KMD Version",)) is not None
    if not gpus and not (own_header and driver_known):
        failure = driver_failure(text)
        raise ParseError(failure or "not nvidia-smi -q output (no GPU blocks, no NVSMI LOG "
                         "header with a driver version)")
    return _report(root, gpus, xml=False)


def _q_tree(text: str) -> Node:
    root = Node("")
    stack: list[tuple[int, Node]] = [(-1, root)]
    for line in text.replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("==") or DRIVER_FAILURE.match(stripped):
            continue
        indent = len(line) - len(line.lstrip())
        match = _Q_LINE.match(stripped)
        if match and not _Q_GPU_HEADER.match(stripped):
            node = Node(match.group("key").strip(), (match.group("value") or "").strip() or None)
        else:
            node = Node(stripped)
        while stack[-1][0] >= indent:
            stack.pop()
        if len(stack) <= _MAX_DEPTH:
            stack[-1][1].children.append(node)
            stack.append((indent, node))
    return root


def parse_q_kind(text: str) -> Sections:
    """Kind ``nvidia-smi-q``."""
    return report_sections(parse_q(text))


# This module's parse kinds (`envstamp parse KIND`), for envstamp.parsers.kinds (read from
# this text: literals only): kind -> (function, what it reads).
KINDS = {
    "nvidia-smi-xml": ("parse_xml_kind", "nvidia-smi -q -x"),
    "nvidia-smi-q": ("parse_q_kind", "nvidia-smi -q"),
}
