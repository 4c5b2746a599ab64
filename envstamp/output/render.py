"""Human views of a manifest: a one-screen text summary and a Markdown table for issues."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs

from envstamp.manifest.model import (
    Frontends,
    Gpu,
    LlamaCppBuild,
    Manifest,
    NamedVersion,
    PythonEngine,
)
from envstamp.output.formatting import (
    IDENTITY_DIGEST,
    human_bytes,
    identity_text,
    md_cell,
    short_digest,
    timestamp,
)

Row = tuple[str, str]


def _join(parts: Iterable[object | None], sep: str = ", ") -> str:
    return sep.join(str(p) for p in parts if p not in (None, "", [], False, 0))


def _mib(value: int | None) -> str | None:
    return None if value is None else human_bytes(value * 1024 * 1024)


# ------------------------------------------------------------------------------ sections


def _host_rows(m: Manifest) -> list[Row]:
    text = _join([m.host.hostname, m.host.model and f"model {m.host.model}"])
    return [("Host", text)] if text else []


def _os_rows(m: Manifest) -> list[Row]:
    o = m.os
    name = o.distro_pretty or _join([o.distro_name, o.distro_version], " ")
    text = _join(
        [
            name or o.system,
            o.build and f"build {o.build}",
            o.kernel and f"kernel {o.kernel}",
            o.arch,
            o.libc,
            o.virtualization and ("VM" if o.virtualization == "vm" else f"VM {o.virtualization}"),
            o.container and f"container {o.container}",
            "WSL" if o.wsl else None,
        ]
    )
    return [("OS", text)] if text else []


def _cpu_rows(m: Manifest) -> list[Row]:
    c = m.cpu
    cores = None
    if c.physical_cores or c.logical_cpus:
        cores = _join(
            [
                c.physical_cores and f"{c.physical_cores} cores",
                c.logical_cpus and f"{c.logical_cpus} threads",
            ],
            " / ",
        )
    hybrid = None
    if c.performance_cores or c.efficiency_cores:
        hybrid = f"{c.performance_cores or 0}P+{c.efficiency_cores or 0}E"
    text = _join(
        [
            c.model_name or c.vendor,
            c.sockets and c.sockets > 1 and f"{c.sockets} sockets",
            cores,
            hybrid,
            c.max_mhz and f"max {c.max_mhz} MHz",
            c.isa and " ".join(c.isa),
            c.governor and f"governor {c.governor}",
            c.boost is not None and ("boost on" if c.boost else "boost off"),
            c.smt is False and "SMT off",
        ]
    )
    return [("CPU", text)] if text else []


def _memory_rows(m: Manifest) -> list[Row]:
    mem = m.memory
    text = _join(
        [
            human_bytes(mem.total_bytes),
            mem.swap_bytes is not None and f"swap {human_bytes(mem.swap_bytes)}",
            mem.numa_nodes and mem.numa_nodes > 1 and f"{mem.numa_nodes} NUMA nodes",
            mem.thp and f"THP {mem.thp}",
        ]
    )
    return [("Memory", text)] if text else []


def gpu_line(gpu: Gpu) -> str:
    """One readable line: name, VRAM, driver, CUDA, power limit, PCIe link."""
    memory = "unified memory" if gpu.unified_memory else _mib(gpu.memory_total_mib)
    link = None
    if gpu.pcie_gen_max or gpu.pcie_width_max:
        link = f"PCIe {gpu.pcie_gen_max or '?'}x{gpu.pcie_width_max or '?'}"
        now = (gpu.pcie_gen_current, gpu.pcie_width_current)
        if any(now) and now != (gpu.pcie_gen_max, gpu.pcie_width_max):
            link += f" (now {now[0] or '?'}x{now[1] or '?'})"
    return _join(
        [
            gpu.name or _join([gpu.vendor, gpu.pci_device_id], " "),
            memory,
            gpu.architecture,
            gpu.compute_capability and f"cc {gpu.compute_capability}",
            gpu.cores and f"{gpu.cores} {'CUs' if gpu.vendor == 'amd' else 'cores'}",
            gpu.driver_version and f"driver {gpu.driver_version}",
            gpu.cuda_version and f"CUDA {gpu.cuda_version}",
            gpu.power_limit_w and f"{gpu.power_limit_w:g} W limit",
            link,
            gpu.mig_mode and "MIG on",
        ],
        " · ",
    )


def _gpu_rows(m: Manifest) -> list[Row]:
    if not m.gpus:
        return [("GPU", "none found")]
    return [
        (f"GPU {gpu.index if gpu.index is not None else i}", gpu_line(gpu))
        for i, gpu in enumerate(m.gpus)
    ]


def _runtime_rows(m: Manifest) -> list[Row]:
    r = m.runtimes
    labels = [
        ("NVIDIA driver", r.nvidia_driver),
        ("CUDA (driver)", r.cuda_driver),
        ("CUDA toolkit", r.cuda_toolkit),
        ("cuDNN", r.cudnn),
        ("ROCm", r.rocm),
        ("HIP", r.hip),
        ("Vulkan", r.vulkan_instance),
        ("Metal", r.metal),
        ("oneAPI", r.oneapi),
        ("OpenCL", r.opencl),
    ]
    # Metal's level already names itself ("Metal 3").
    text = _join(
        value if value.startswith(label) else f"{label} {value}" for label, value in labels if value
    )
    return [("Runtimes", text)] if text else []


def llama_line(build: LlamaCppBuild) -> str:
    """One line per llama.cpp build: version and build number, commit, backends, where.

    The build is named as ``diff`` names it: a number the binary did not print is read from
    its checkout's ``git describe`` or its CMake cache ("b5308"), a commit likewise; a build
    that says nothing of itself reads "build unknown"."""
    from envstamp.diffing.builds import build_summary

    summary = build_summary(build)
    version, number = summary["version"], summary["build_number"]
    tag = f"b{number}" if number is not None and str(number) != str(version) else None
    commit = summary["commit"]
    ident = _join([version, tag, commit and f"({str(commit)[:10]})"], " ")
    return _join(
        [
            ident or "build unknown",
            build.backends and "+".join(build.backends),
            build.git and build.git.dirty and "dirty",
            build.path,
        ],
        " ",
    )


def _llama_rows(m: Manifest) -> list[Row]:
    from envstamp.output.probe_summary import llama_not_found  # "not found" (issue 15)

    return [("llama.cpp", llama_line(b)) for b in m.llamacpp] or llama_not_found(m)


def _engine_note(runtimes: list[NamedVersion]) -> str | None:
    """ "(engine NAME VERSION, ...)": the engine packages a frontend runs models with."""
    named = [_join([r.name, r.version], " ") for r in runtimes if r.name]
    return f"(engine {', '.join(dict.fromkeys(named))})" if named else None


# Frontends with a text of their own in the summary line; Python engines have their own line.
_OWN_TEXT = frozenset({"ollama", "lmstudio", "jan", "koboldcpp"})


def _versioned_frontends(f: Frontends) -> list[str]:
    """ "llamafile 0.9.3", "vLLM 0.6.4.post1": every other frontend of the model, by its name
    (its field's description up to " (" or ".") and version, so that a frontend added to the
    model shows here without an edit."""
    shown = []
    for field in attrs.fields(Frontends):
        value = getattr(f, field.name)
        if field.name in _OWN_TEXT or value is None or isinstance(value, PythonEngine):
            continue
        title = str(field.metadata.get("doc", "")).split(" (")[0].rstrip(".") or field.name
        shown.append(_join([title, getattr(value, "version", None)], " "))
    return shown


def _frontend_rows(m: Manifest) -> list[Row]:
    f = m.frontends
    parts: list[str] = []
    if f.ollama:
        o = f.ollama
        client = o.client_version
        differs = client and o.server_version and client != o.server_version
        parts.append(
            _join(["Ollama", o.server_version or client, differs and f"(client {client})"], " ")
        )
    if f.lmstudio:
        lms = f.lmstudio
        version = lms.app_version or (lms.cli_version and f"lms {lms.cli_version}")
        parts.append(_join(["LM Studio", version, _engine_note(lms.selected_runtimes)], " "))
    if f.jan:
        llama = [e for e in f.jan.engines if e.name and "llama" in e.name.lower()]
        tags = sorted({e.version for e in llama if e.version})
        engine = f"(llama.cpp {', '.join(tags)})" if tags else None
        parts.append(_join(["Jan", f.jan.app_version, engine], " "))
    if f.koboldcpp:
        parts.append(_join(["koboldcpp", f.koboldcpp.version, f.koboldcpp.backend], " "))
    parts += _versioned_frontends(f)
    python: list[str] = []
    engines = ("llama_cpp_python", "mlx", "mlx_lm", "exllamav2", "sglang", "transformers", "torch")
    for name in engines:
        engine = getattr(f, name)
        if engine and engine.version:
            tag = f"+{engine.build_tag}" if engine.build_tag and "+" not in engine.version else ""
            python.append(f"{name} {engine.version}{tag}")
    from envstamp.output.probe_summary import frontends_not_found  # "not found" (issue 15)

    rows: list[Row] = [("Frontends", ", ".join(parts))] if parts else []
    rows += [("Python engines", ", ".join(python))] if python else []
    return rows + frontends_not_found(m, any_shown=bool(rows))


def _parameters(count: int | None) -> str | None:
    """8030261248 -> "8.03B params", 7241732 -> "7.24M", 149824 -> "150K" (three
    significant digits, llama-bench's way of counting; a tiny model is not "0M")."""
    if not count:
        return None
    for scale, unit in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= scale:
            value = count / scale
            places = 2 if value < 10 else 1 if value < 100 else 0
            return f"{value:.{places}f}{unit} params"
    return f"{count} params"


def _model_rows(m: Manifest) -> list[Row]:
    rows = []
    for model in m.models:
        text = _join(
            [
                model.name or model.path,
                model.quantization,
                model.architecture,
                _parameters(model.parameters),
                human_bytes(model.size_bytes),
                model.sha256 and f"sha256 {model.sha256[:12]}",
            ]
        )
        rows.append(("Model", text))
    return rows


def _power_rows(m: Manifest) -> list[Row]:
    p = m.power
    supply = None
    if p.ac_online is not None:
        supply = "on AC" if p.ac_online else "ON BATTERY"
    text = _join(
        [
            supply,
            p.battery_percent is not None and f"battery {p.battery_percent:g}%",
            p.platform_profile and f"platform profile {p.platform_profile}",
            p.power_profile and f"profile {p.power_profile}",
            p.windows_power_plan and f"plan {p.windows_power_plan}",
            p.macos_low_power_mode and "Low Power Mode",
        ]
    )
    return [("Power", text)] if text else []


def _env_rows(m: Manifest) -> list[Row]:
    if not m.env:
        return []
    return [("Env", " ".join(f"{k}={v}" for k, v in sorted(m.env.items())))]


def _python_rows(m: Manifest) -> list[Row]:
    py = m.python
    text = _join(
        [
            py.version and f"{py.implementation or 'Python'} {py.version}",
            py.virtualenv and "venv",
        ]
    )
    return [("Python", text)] if text else []


def _probe_rows(m: Manifest) -> list[Row]:
    from envstamp.output.probe_summary import probe_rows  # in words (issue 15)

    return probe_rows(m)


SECTIONS: list[Callable[[Manifest], list[Row]]] = [
    _host_rows,
    _os_rows,
    _cpu_rows,
    _memory_rows,
    _gpu_rows,
    _runtime_rows,
    _llama_rows,
    _frontend_rows,
    _model_rows,
    _power_rows,
    _env_rows,
    _python_rows,
    _probe_rows,
]


def rows(manifest: Manifest) -> list[Row]:
    """All summary rows, in reading order."""
    return [row for section in SECTIONS for row in section(manifest)]


def _header(manifest: Manifest, note: str | None, identity: str | None) -> str:
    extra = f", {note}" if note else ""
    return (
        f"envstamp manifest: {_captured(manifest)}, "
        f"envstamp {manifest.envstamp_version}, {identity_text(identity)}{extra}"
    )


def _captured(manifest: Manifest) -> str:
    """ "captured 2026-01-01T12:00:02Z", and "(replayed from rec)" for a capture answered by
    a recording: its facts are the recorded machine's, its time the replay's."""
    text = f"captured {timestamp(manifest.captured_at)}"
    if manifest.replayed_from:
        text += f" (replayed from {', '.join(manifest.replayed_from)})"
    return text


def to_text(manifest: Manifest, *, note: str | None = None,
            original: Manifest | None = None) -> str:
    """The one-screen human summary.  ``original``: the manifest a redacted ``manifest`` was
    made from; its identity digest is the one printed (a redacted copy's own digest names
    nothing anyone else holds)."""
    table = rows(manifest)
    width = max((len(label) for label, _ in table), default=0)
    lines = [_header(manifest, note, (original or manifest).identity_digest)]
    lines += [f"  {label.ljust(width)}  {text}" for label, text in table]
    return "\n".join(lines) + "\n"


def to_markdown(manifest: Manifest, *, note: str | None = None,
                original: Manifest | None = None) -> str:
    """A Markdown table ready to paste into a GitHub issue (``original`` as in ``to_text``)."""
    identity = (original or manifest).identity_digest
    lines = [
        f"**envstamp** {manifest.envstamp_version} · {_captured(manifest)} · "
        f"{IDENTITY_DIGEST} `{short_digest(identity)}`"
        + (f" · {note}" if note else ""),
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {md_cell(label)} | {md_cell(text)} |" for label, text in rows(manifest)]
    return "\n".join(lines) + "\n"
