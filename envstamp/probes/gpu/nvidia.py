"""NVIDIA GPUs: the static probe (``probe``) and the readings of the moment (``state``).

Sources, in order (the first that answers wins, the others' failures become the detail):

1. a cheap presence check - ``/proc/driver/nvidia/version`` on Linux, ``nvidia-smi`` on PATH
   elsewhere (or on Linux without the proc file: WSL, driver not loaded) - so a machine
   without NVIDIA returns "absent" without loading NVML or spawning anything;
2. NVML in-process (nvidia-ml-py) through the runner: no process is spawned when it answers;
3. ``nvidia-smi -q -x``; 4. ``nvidia-smi --query-gpu=... --format=csv``; 5. GPUtil.

Once nvidia-smi has timed out, or said the driver is not loaded, it is not asked again in the
same probe.  In record mode (``envstamp capture --raw DIR``) ``nvidia-smi -q -x`` is also run
when NVML answered, so a recording carries both sources and they can be compared on replay.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from envstamp.manifest.model import PROBE_STATUSES, Runtimes, Sections, Volatile
from envstamp.parsers.nvidia_proc import parse_proc_version
from envstamp.probes.context import Outcome, ProbeContext, ProbeFailure, failure_from, first_ok
from envstamp.runner.caches import register

if TYPE_CHECKING:
    from envstamp.manifest.model import ProbeStatus
    from envstamp.probes.gpu.nvml import NvmlSystem
    from envstamp.runner import CommandResult, Runner

PROC_VERSION = "/proc/driver/nvidia/version"
WINDOWS_SMI = r"C:\Program Files\NVIDIA Corporation\NVSMI\nvidia-smi.exe"
SOURCE_NVML = "nvml"
SOURCE_XML = "nvidia-smi -q -x"
SOURCE_CSV = "nvidia-smi --query-gpu"
SOURCE_GPUTIL = "gputil"
XML_ARGS = ("-q", "-x")

# Static fields asked of nvidia-smi when neither NVML nor -q -x answered.
STATIC_CSV_FIELDS = (
    "index", "name", "uuid", "serial", "pci.bus_id", "pci.device_id", "memory.total",
    "driver_version", "vbios_version", "compute_cap", "power.limit", "power.default_limit",
    "power.max_limit", "clocks.max.graphics", "clocks.max.memory", "pcie.link.gen.max",
    "pcie.link.width.max", "pcie.link.gen.current", "pcie.link.width.current",
    "persistence_mode", "mig.mode.current", "ecc.mode.current",
)  # fmt: skip
# Readings of the moment, for the state probe when NVML is not available.
VOLATILE_CSV_FIELDS = (
    "index", "uuid", "temperature.gpu", "utilization.gpu", "utilization.memory",
    "clocks.current.graphics", "clocks.current.sm", "clocks.current.memory", "power.draw",
    "memory.used", "pstate", "fan.speed", "clocks_throttle_reasons.active",
)  # fmt: skip
_MAX_FIELD_RETRIES = 4
# NVML's first call initialises the driver for every GPU: seconds on a multi-GPU machine without
# the persistence daemon.  It gets this long at least (the capture deadline still caps it).
NVML_INIT_TIMEOUT = 4.0

# ------------------------------------------------------------------------------ presence


class Presence:
    """Whether an NVIDIA driver may be here, found without loading NVML or spawning.

    (A plain class: on the GPU-less path every millisecond of import counts, and generating an
    attrs class costs more than this whole check.)
    """

    __slots__ = ("detail", "kernel_driver", "present", "smi_looked_up", "smi_path", "source")

    def __init__(
        self,
        present: bool,
        *,
        detail: str | None = None,
        source: str | None = None,
        kernel_driver: str | None = None,
        smi_path: str | None = None,
        smi_looked_up: bool = False,
    ) -> None:
        self.present = present
        self.detail = detail
        self.source = source
        self.kernel_driver = kernel_driver
        self.smi_path = smi_path
        self.smi_looked_up = smi_looked_up


_PRESENCE: weakref.WeakKeyDictionary[Runner, Presence] = weakref.WeakKeyDictionary()
register(__name__, "_PRESENCE")(_PRESENCE.clear)
_PRESENCE_LOCK = threading.Lock()


def presence(ctx: ProbeContext) -> Presence:
    """The presence check, done once per runner (``probe`` and ``state`` share it)."""
    with _PRESENCE_LOCK:
        found = _PRESENCE.get(ctx.runner)
        if found is None:
            found = _detect(ctx)
            _PRESENCE[ctx.runner] = found
        return found


def _detect(ctx: ProbeContext) -> Presence:
    if ctx.system == "Linux":
        proc = ctx.runner.read_text(PROC_VERSION)
        if proc.ok:
            driver = parse_proc_version(proc.text or "")
            return Presence(True, source=PROC_VERSION, kernel_driver=driver)
        if proc.status == "permission":
            return Presence(True, detail=f"{PROC_VERSION} unreadable", source=PROC_VERSION)
    smi = _find_smi(ctx)
    if smi is not None:
        return Presence(True, source=smi, smi_path=smi, smi_looked_up=True)
    linux = ctx.system == "Linux"
    where = f"{PROC_VERSION} absent, " if linux else ""
    return Presence(
        False,
        detail=f"no NVIDIA driver ({where}nvidia-smi not found)",
        source=PROC_VERSION if linux else "nvidia-smi",
        smi_looked_up=True,
    )


def _find_smi(ctx: ProbeContext) -> str | None:
    found = ctx.runner.which("nvidia-smi")
    if found is None and ctx.system == "Windows" and ctx.runner.stat(WINDOWS_SMI).exists:
        found = WINDOWS_SMI
    return found


def _smi_path(ctx: ProbeContext, found: Presence) -> str | None:
    with _PRESENCE_LOCK:
        if not found.smi_looked_up:
            found.smi_path = _find_smi(ctx)
            found.smi_looked_up = True
        return found.smi_path


# ---------------------------------------------------------------------------- nvidia-smi


class _InvalidFieldError(Exception):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _output_failure(result: CommandResult) -> ProbeFailure | None:
    """What nvidia-smi's own words say went wrong, if anything."""
    from envstamp.parsers.nvidia_values import smi_failure

    failed = smi_failure(result.output)
    return ProbeFailure(*failed) if failed is not None else None


class _Smi:
    """nvidia-smi for one probe run: found once, given up on after a hang or a dead driver."""

    __slots__ = ("ctx", "found", "stop")

    def __init__(self, ctx: ProbeContext, found: Presence) -> None:
        self.ctx = ctx
        self.found = found
        self.stop: ProbeFailure | None = None

    def run(self, args: tuple[str, ...], source: str) -> CommandResult:
        """Run nvidia-smi; ProbeFailure unless it printed something usable."""
        from envstamp.parsers.nvidia_smi_text import invalid_field

        if self.stop is not None:
            raise ProbeFailure(self.stop.status, f"skipped ({self.stop.status})", source)
        path = _smi_path(self.ctx, self.found)
        if path is None:
            self.stop = ProbeFailure("absent", "nvidia-smi not found", source)
            raise self.stop
        result = self.ctx.runner.run([path, *args])
        if result.status != "ok":
            self.stop = failure_from(result, source)
            raise self.stop
        failure = _output_failure(result)
        if failure is not None:
            failure.source = source
            self.stop = failure
            raise failure
        if result.returncode != 0:
            refused = invalid_field(result.output)
            if refused:
                raise _InvalidFieldError(refused)
            if not result.stdout.strip():
                raise ProbeFailure("error", result.describe(), source)
        return result  # a non-zero exit with output (one GPU in error): let the parser judge

    def query(self, fields: tuple[str, ...]) -> CommandResult:
        """``--query-gpu`` with ``fields``, dropping those this driver does not know."""
        wanted = list(fields)
        for _ in range(_MAX_FIELD_RETRIES):
            args = (f"--query-gpu={','.join(wanted)}", "--format=csv")
            try:
                return self.run(args, SOURCE_CSV)
            except _InvalidFieldError as refused:
                if refused.field not in wanted or len(wanted) == 1:
                    break
                wanted.remove(refused.field)
        raise ProbeFailure("error", "nvidia-smi refused the query fields", SOURCE_CSV)


# ----------------------------------------------------------------------------- attempts


def _nvml_system(ctx: ProbeContext, smi: _Smi) -> tuple[NvmlSystem, int]:
    """The NVML system batch (cached) and the device count, or ProbeFailure."""
    from envstamp.probes.gpu import nvml

    timeout = max(ctx.options.command_timeout, NVML_INIT_TIMEOUT)
    result = ctx.runner.nvml(nvml.system_calls(), timeout=timeout, cache=True)
    if result.status != "ok":
        raise ProbeFailure(_status(result.status), result.detail or result.status, SOURCE_NVML)
    system = nvml.read_system(result.answers)
    if system.count is None:
        raise ProbeFailure("error", f"nvmlDeviceGetCount: {system.count_error}", SOURCE_NVML)
    if system.count == 0:
        # NVML answered: there is nothing to spawn nvidia-smi for.
        smi.stop = ProbeFailure("absent", "NVIDIA driver loaded; NVML reports no GPUs")
        raise ProbeFailure(smi.stop.status, smi.stop.detail, SOURCE_NVML)
    return system, system.count


def _status(text: str) -> ProbeStatus:
    return text if text in PROBE_STATUSES else "error"  # type: ignore[return-value]


def _nvml_static(ctx: ProbeContext, smi: _Smi) -> Sections:
    from envstamp.probes.gpu import nvml

    system, count = _nvml_system(ctx, smi)
    static = ctx.runner.nvml(nvml.static_calls(count), cache=True)
    if static.status != "ok":
        raise ProbeFailure(_status(static.status), static.detail or static.status, SOURCE_NVML)
    link = ctx.runner.nvml(nvml.link_calls(count))
    gpus = nvml.gpus_from(system, static.answers, link.answers if link.status == "ok" else ())
    if not gpus:
        raise ProbeFailure("error", f"NVML answered for none of {count} devices", SOURCE_NVML)
    runtimes = Runtimes(nvidia_driver=system.driver, cuda_driver=system.cuda)
    return {"gpus": gpus, "runtimes": runtimes}


def _smi_xml(smi: _Smi) -> Sections:
    from envstamp.parsers.nvidia_smi import parse_xml, report_sections

    result = smi.run(XML_ARGS, SOURCE_XML)
    report = parse_xml(result.stdout)
    if not report.gpus:
        if result.returncode != 0:
            detail = f"nvidia-smi exited {result.returncode} before listing a complete GPU"
            raise ProbeFailure("error", detail, SOURCE_XML)
        raise ProbeFailure("absent", "nvidia-smi lists no GPUs", SOURCE_XML)
    return report_sections(report, volatile=False)


def _smi_csv(smi: _Smi) -> Sections:
    from envstamp.parsers.nvidia_smi_text import parse_csv

    gpus, _states = parse_csv(smi.query(STATIC_CSV_FIELDS).stdout)
    if not gpus:
        raise ProbeFailure("absent", "nvidia-smi lists no GPUs", SOURCE_CSV)
    driver = next((g.driver_version for g in gpus if g.driver_version), None)
    return {"gpus": gpus, "runtimes": Runtimes(nvidia_driver=driver)}


def _gputil(ctx: ProbeContext, smi: _Smi) -> Sections:
    """GPUtil runs nvidia-smi itself, without a timeout: never after nvidia-smi failed."""
    from envstamp.parsers.nvidia_values import build_gpu

    if smi.stop is not None:
        raise ProbeFailure(smi.stop.status, f"skipped ({smi.stop.status})", SOURCE_GPUTIL)
    answer = ctx.runner.library("gputil")
    if answer.get("status") != "ok":
        status = _status(str(answer.get("status")))
        raise ProbeFailure(status, str(answer.get("detail") or status), SOURCE_GPUTIL)
    listed = answer.get("gpus")
    gpus = [
        build_gpu(
            {
                "index": g.get("id"),
                "name": g.get("name"),
                "uuid": g.get("uuid"),
                "serial": g.get("serial"),
                "driver_version": g.get("driver"),
                "memory_total_mib": g.get("memory_total_mib"),
            },
            SOURCE_GPUTIL,
        )
        for g in (listed if isinstance(listed, list) else [])
        if isinstance(g, dict)
    ]
    if not gpus:
        raise ProbeFailure("absent", "GPUtil found no GPUs", SOURCE_GPUTIL)
    driver = next((g.driver_version for g in gpus if g.driver_version), None)
    return {"gpus": gpus, "runtimes": Runtimes(nvidia_driver=driver)}


# -------------------------------------------------------------------------------- probes


def probe(ctx: ProbeContext) -> Outcome:
    """NVIDIA GPUs and the driver / CUDA versions: NVML, then nvidia-smi, then GPUtil."""
    found = presence(ctx)
    if not found.present:
        raise ProbeFailure("absent", found.detail or "no NVIDIA driver", found.source)
    smi = _Smi(ctx, found)
    attempts: list[tuple[str, Callable[[], Sections]]] = [
        (SOURCE_NVML, lambda: _nvml_static(ctx, smi)),
        (SOURCE_XML, lambda: _smi_xml(smi)),
        (SOURCE_CSV, lambda: _smi_csv(smi)),
        (SOURCE_GPUTIL, lambda: _gputil(ctx, smi)),
    ]
    try:
        outcome = first_ok(attempts)
    except ProbeFailure as failure:
        if found.kernel_driver is None:
            raise
        # The kernel module still says which driver is installed.
        sections = {"runtimes": Runtimes(nvidia_driver=found.kernel_driver)}
        return Outcome(sections, failure.source, failure.status, failure.detail)
    if outcome.source == SOURCE_NVML and ctx.runner.mode == "record":
        _record_xml_too(smi)
    return outcome


def _record_xml_too(smi: _Smi) -> None:
    """Put nvidia-smi -q -x into the recording beside NVML's answers (not used for the result)."""
    from envstamp.errors import ParseError

    with contextlib.suppress(ProbeFailure, ParseError, _InvalidFieldError):
        smi.run(XML_ARGS, SOURCE_XML)


def state(ctx: ProbeContext) -> Outcome:
    """Readings of the moment: NVML when it answers (no process spawned), else nvidia-smi."""
    found = presence(ctx)
    if not found.present:
        raise ProbeFailure("absent", found.detail or "no NVIDIA driver", found.source)
    smi = _Smi(ctx, found)
    return first_ok(
        [
            (SOURCE_NVML, lambda: _nvml_state(ctx, smi)),
            (SOURCE_CSV, lambda: _smi_state(smi)),
        ]
    )


def _nvml_state(ctx: ProbeContext, smi: _Smi) -> Sections:
    from envstamp.probes.gpu import nvml

    _system, count = _nvml_system(ctx, smi)
    result = ctx.runner.nvml(nvml.volatile_calls(count))
    if result.status != "ok":
        raise ProbeFailure(_status(result.status), result.detail or result.status, SOURCE_NVML)
    return {"volatile": Volatile(gpus=nvml.states_from(count, result.answers))}


def _smi_state(smi: _Smi) -> Sections:
    from envstamp.parsers.nvidia_smi_text import parse_csv

    _gpus, states = parse_csv(smi.query(VOLATILE_CSV_FIELDS).stdout)
    if not states:
        raise ProbeFailure("absent", "nvidia-smi lists no GPUs", SOURCE_CSV)
    return {"volatile": Volatile(gpus=states)}


# This module's probes, for envstamp.probes.registry (read from this text: literals only).
PROBES = (
    {"name": "gpu_nvidia", "order": 200, "waits": True},
    {"name": "gpu_nvidia_state", "function": "state", "order": 910, "volatile": True,
     "waits": True},
)
