"""The manifest: attrs classes for everything envstamp records about a machine.

Three kinds of data are kept apart (DESIGN 3):

* identity - hardware, drivers, runtimes, engine builds, frontends, OS;
* configuration - environment variables, power settings, model files;
* volatile - readings of the moment (clocks, temperatures, load, AC state).

Volatile data lives in the ``volatile`` section, or - where the vocabulary places a reading of
the moment beside identity fields (``power.ac_online``, ``gpus[].pcie_gen_current``) - in a
field marked with :func:`volatile_field`.  Both are left out of the identity digest.

Values are raw and typed: integers for MiB, MHz and bytes, floats for watts, ``None`` for
unknown (never ``""`` or ``"N/A"``).  Every field carries its description in its metadata;
the JSON Schema and the field reference in the docs are generated from it.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import attrs

from envstamp.manifest.records import Record

SCHEMA_NAME = "envstamp.manifest"
SCHEMA_MAJOR = 1
SCHEMA_ID = f"{SCHEMA_NAME}/{SCHEMA_MAJOR}"

ProbeStatus = Literal["ok", "absent", "unsupported", "permission", "timeout", "error"]
PROBE_STATUSES: tuple[str, ...] = ("ok", "absent", "unsupported", "permission", "timeout", "error")


def field(doc: str, default: Any = None, *, volatile: bool = False) -> Any:
    """An optional manifest field that defaults to unknown (``None``)."""
    return attrs.field(default=default, metadata={"doc": doc, "volatile": volatile})


def list_field(doc: str) -> Any:
    """A list field that defaults to empty."""
    return attrs.field(factory=list, metadata={"doc": doc, "volatile": False})


def dict_field(doc: str) -> Any:
    """A mapping field that defaults to empty."""
    return attrs.field(factory=dict, metadata={"doc": doc, "volatile": False})


def volatile_field(doc: str) -> Any:
    """A reading of the moment kept beside identity fields; excluded from the digest."""
    return field(doc, volatile=True)


def section_field(cls: type, doc: str) -> Any:
    """A nested section that always exists (its fields may all be unknown)."""
    return attrs.field(factory=cls, metadata={"doc": doc, "volatile": False})


Sections = dict[str, Any]
"""Manifest section name -> typed value (an attrs object, or a list of them for ``gpus``):
what a parser or a probe contributes to a manifest."""


def utc_now() -> str:
    """Now, UTC, RFC 3339 with milliseconds (time, not datetime: one import less)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


# --------------------------------------------------------------------------------------- host


@attrs.define(eq=False, repr=False)
class Host(Record):
    """Which machine this is.  Shareable output replaces these with salted hashes."""

    hostname: str | None = field("Network host name.")
    machine_id: str | None = field(
        "sha256 of the OS machine id (/etc/machine-id, IOPlatformUUID, MachineGuid), "
        "never the raw id."
    )
    model: str | None = field(
        "Machine model: DMI product name, macOS hw.model / machine_model, Windows model."
    )


# ----------------------------------------------------------------------------------------- os


@attrs.define(eq=False, repr=False)
class OperatingSystem(Record):
    """The operating system and what it runs in."""

    system: str | None = field('"Linux", "Darwin" or "Windows" (platform.system()).')
    kernel: str | None = field("Kernel release (uname -r; Darwin or NT version elsewhere).")
    arch: str | None = field("Machine architecture as the kernel reports it (x86_64, arm64...).")
    distro_id: str | None = field("os-release ID (ubuntu, debian, fedora...); macos, windows.")
    distro_name: str | None = field("os-release NAME; macOS ProductName; Windows product name.")
    distro_version: str | None = field("os-release VERSION_ID; macOS ProductVersion.")
    distro_pretty: str | None = field("os-release PRETTY_NAME, or a composed equivalent.")
    distro_codename: str | None = field("Release codename (VERSION_CODENAME, or from VERSION).")
    distro_like: list[str] = list_field("os-release ID_LIKE, split on whitespace.")
    build: str | None = field("OS build: macOS BuildVersion, Windows CurrentBuild.UBR.")
    edition: str | None = field("Windows EditionID (Professional, Core...).")
    libc: str | None = field('C library and version, e.g. "glibc 2.36", "musl 1.2.4".')
    virtualization: str | None = field(
        "Hypervisor or VM product when running virtualised (kvm, vmware, hyperv...), else null."
    )
    container: str | None = field("Container runtime when inside one (docker, podman, kubernetes).")
    wsl: bool | None = field("True under Windows Subsystem for Linux.")


# ---------------------------------------------------------------------------------------- cpu


@attrs.define(eq=False, repr=False)
class Cpu(Record):
    """The processor."""

    vendor: str | None = field(
        "Vendor as the source prints it (GenuineIntel, AuthenticAMD, Apple)."
    )
    model_name: str | None = field("Model name as printed; marks like (R) and (TM) kept.")
    arch: str | None = field("Instruction set architecture (x86_64, aarch64, arm64...).")
    sockets: int | None = field("Physical packages.")
    physical_cores: int | None = field("Physical cores over all sockets.")
    logical_cpus: int | None = field("Logical CPUs (processor entries the source lists).")
    performance_cores: int | None = field("Performance cores on hybrid CPUs (Apple P, Intel P).")
    efficiency_cores: int | None = field("Efficiency cores on hybrid CPUs (Apple E, Intel E).")
    flags: list[str] = list_field("CPU feature flags as the source prints them, sorted.")
    isa: list[str] = list_field(
        "Inference-relevant ISA extensions present, named as in DESIGN 3.1 (avx2, avx512f, "
        "amx_tile, asimd, sve...), sorted."
    )
    max_mhz: int | None = field("Maximum clock in MHz.")
    cache_l2_kib: int | None = field("L2 cache per core (or per cluster where shared), KiB.")
    cache_l3_kib: int | None = field("L3 cache per instance, KiB.")
    microcode: str | None = field("Microcode revision as printed.")
    governor: str | None = field("cpufreq scaling governor (performance, powersave, schedutil...).")
    boost: bool | None = field("Turbo / frequency boost enabled.")
    smt: bool | None = field("Simultaneous multithreading active.")


# ------------------------------------------------------------------------------------- memory


@attrs.define(eq=False, repr=False)
class Memory(Record):
    """System memory."""

    total_bytes: int | None = field("Installed memory visible to the OS, bytes.")
    swap_bytes: int | None = field("Swap space, bytes.")
    numa_nodes: int | None = field("NUMA nodes.")
    thp: str | None = field("Transparent huge pages mode (always, madvise, never).")


# --------------------------------------------------------------------------------------- gpus


@attrs.define(eq=False, repr=False)
class Gpu(Record):
    """One GPU device, from whichever source described it best (``source``)."""

    index: int | None = field("Index within its vendor's tool.")
    vendor: str | None = field('"nvidia", "amd", "intel", "apple" or another lower-case name.')
    name: str | None = field("Name as the vendor tool prints it.")
    uuid: str | None = field("Device UUID.")
    serial: str | None = field("Board serial number.")
    pci_bus_id: str | None = field("PCI bus id (domain:bus:device.function).")
    pci_device_id: str | None = field('PCI vendor:device id, e.g. "0x10de:0x2684".')
    memory_total_mib: int | None = field("Dedicated memory, MiB; null for unified memory.")
    unified_memory: bool | None = field("Memory shared with the CPU (Apple, integrated GPUs).")
    driver_version: str | None = field("Kernel driver version.")
    cuda_version: str | None = field("CUDA version the NVIDIA driver supports.")
    compute_capability: str | None = field('CUDA compute capability, e.g. "8.6".')
    architecture: str | None = field('Architecture: "Ampere", "Hopper", "gfx1100"...')
    vbios_version: str | None = field("Video BIOS version.")
    power_limit_w: float | None = field("Power limit in force, watts.")
    power_default_limit_w: float | None = field("Default power limit, watts.")
    power_max_limit_w: float | None = field("Highest settable power limit, watts.")
    clocks_max_graphics_mhz: int | None = field("Maximum graphics clock, MHz.")
    clocks_max_memory_mhz: int | None = field("Maximum memory clock, MHz.")
    pcie_gen_max: int | None = field("Maximum PCIe generation of the link.")
    pcie_width_max: int | None = field("Maximum PCIe link width (lanes).")
    pcie_gen_current: int | None = volatile_field(
        "PCIe generation now (drops at idle to save power)."
    )
    pcie_width_current: int | None = volatile_field("PCIe link width now.")
    persistence_mode: bool | None = field("NVIDIA persistence mode on.")
    mig_mode: bool | None = field("NVIDIA Multi-Instance GPU mode on.")
    ecc_enabled: bool | None = field("ECC memory enabled.")
    cores: int | None = field("GPU cores (Apple) or compute units where that is what is printed.")
    source: str | None = field("Which tool described this device (nvml, nvidia-smi -q -x, ...).")


@attrs.define(eq=False, repr=False)
class GpuState(Record):
    """A GPU's readings of the moment."""

    index: int | None = field("Index of the GPU in ``gpus``.")
    uuid: str | None = field("Device UUID, to match across samples.")
    temperature_c: float | None = field("Core temperature, Celsius.")
    utilization_gpu_pct: float | None = field("Graphics engine utilisation, percent.")
    utilization_memory_pct: float | None = field("Memory controller utilisation, percent.")
    clocks_graphics_mhz: int | None = field("Current graphics clock, MHz.")
    clocks_sm_mhz: int | None = field("Current SM clock, MHz.")
    clocks_memory_mhz: int | None = field("Current memory clock, MHz.")
    power_draw_w: float | None = field("Current power draw, watts.")
    memory_used_mib: int | None = field("Memory in use, MiB.")
    pstate: str | None = field('Performance state ("P0".."P12").')
    fan_pct: float | None = field("Fan speed, percent.")
    throttle_reasons: list[str] = list_field(
        "Active clock throttle reasons (sw_power_cap, hw_slowdown, sw_thermal...); idle excluded."
    )
    process_count: int | None = field("Compute processes using this GPU.")


# ----------------------------------------------------------------------------------- runtimes


@attrs.define(eq=False, repr=False)
class Runtimes(Record):
    """Compute runtime versions, each a version string or null."""

    nvidia_driver: str | None = field("NVIDIA kernel driver version.")
    cuda_driver: str | None = field("CUDA version the installed driver supports.")
    cuda_toolkit: str | None = field("CUDA toolkit version (nvcc, cuda/version.json).")
    cudnn: str | None = field("cuDNN version.")
    rocm: str | None = field("ROCm version (/opt/rocm/.info/version).")
    hip: str | None = field("HIP version (hipconfig --version).")
    vulkan_instance: str | None = field("Vulkan instance (loader) version.")
    metal: str | None = field('Metal support level, e.g. "Metal 3".')
    oneapi: str | None = field("Intel oneAPI / SYCL runtime version.")
    opencl: str | None = field("OpenCL platform version.")


# ----------------------------------------------------------------------------------- llama.cpp


@attrs.define(eq=False, repr=False)
class LlamaDevice(Record):
    """A device a llama.cpp build reported at start-up."""

    backend: str | None = field('Backend that reported it ("CUDA", "Vulkan", "Metal"...).')
    name: str | None = field("Device name as printed.")
    memory_total_mib: int | None = field("Device memory, MiB, where printed.")
    compute_capability: str | None = field("CUDA compute capability, where printed.")
    architecture: str | None = field("Architecture (gfx target...), where printed.")
    driver: str | None = field("Driver the backend names (Vulkan), where printed.")


@attrs.define(eq=False, repr=False)
class GitInfo(Record):
    """A source checkout."""

    commit: str | None = field("HEAD commit, full hex.")
    describe: str | None = field("git describe --tags --always --dirty.")
    branch: str | None = field("Checked-out branch; null when detached.")
    dirty: bool | None = field("Uncommitted changes present.")
    remote: str | None = field("origin URL with credentials stripped.")


@attrs.define(eq=False, repr=False)
class LlamaCppBuild(Record):
    """One llama.cpp build found on this machine."""

    path: str | None = field("Binary, build folder or checkout this entry describes.")
    version: str | None = field("Release version, where the build prints one.")
    build_number: int | None = field("Build number (the bNNNN release tag).")
    commit: str | None = field("Commit hash as the build prints it.")
    compiler: str | None = field("Compiler the build reports.")
    target: str | None = field("Target triple the build reports.")
    backends: list[str] | None = field(
        'Backends compiled in or loaded ("CUDA", "HIP", "Vulkan", "Metal", "SYCL", "CPU"...), '
        "as the build folder's CMakeCache.txt, the backend libraries beside the binaries or "
        "the build's own output name them; null when nothing did (a binary alone, whose "
        "--version names no backend), [] when its options switch every backend off."
    )
    devices: list[LlamaDevice] = list_field("Devices the build reported.")
    git: GitInfo | None = field("Source checkout, when the path is one.")
    build_flags: dict[str, str] = dict_field(
        "Build options from CMakeCache.txt (GGML_CUDA, CMAKE_BUILD_TYPE...)."
    )
    source: str | None = field("Where this came from (--version, CMakeCache.txt, git...).")


# ----------------------------------------------------------------------------------- frontends


@attrs.define(eq=False, repr=False)
class BundledEngine(Record):
    """The inference engine a frontend ships (most often a llama.cpp build), as it reveals it.

    Frontends trail llama.cpp releases and their speed moves with the bundled build, so a
    change here weighs like a llama.cpp build change.  Unknown is null: many frontends name
    the engine but not its build.
    """

    name: str | None = field(
        'Engine: "llama.cpp", "ollama" (Ollama\'s own engine on ggml), "mlx"...'
    )
    version: str | None = field(
        "Engine version as the frontend states it: llama.cpp's own version where printed; for "
        "LM Studio its engine package version (1.50.2), which moves with each llama.cpp update."
    )
    build_number: int | None = field("llama.cpp build number (the bNNNN release), where stated.")
    commit: str | None = field("llama.cpp commit (hex, as printed), where stated.")
    backend: str | None = field(
        'Backend the engine runs on: "CUDA 12", "HIP", "Vulkan", "Metal", "CPU"...'
    )
    source: str | None = field(
        "What revealed it (a runtime manifest, the server log, a version banner...)."
    )


@attrs.define(eq=False, repr=False)
class OllamaModel(Record):
    """A model Ollama has loaded (ollama ps, /api/ps)."""

    name: str | None = field("Model name and tag.")
    id: str | None = field("Short model id.")
    size: str | None = field('Size as printed ("4.0 GB").')
    size_bytes: int | None = field("Size in bytes, where the source gives it exactly.")
    processor: str | None = field('Placement as printed ("100% GPU", "48%/52% CPU/GPU").')
    gpu_percent: int | None = field("Share of the model on the GPU, percent.")
    context: int | None = field("Context length.")
    until: str | None = field('When it unloads, as printed ("4 minutes from now", "Forever").')


@attrs.define(eq=False, repr=False)
class Ollama(Record):
    """Ollama: client and server versions, loaded models, settings."""

    client_version: str | None = field("Version of the ollama binary.")
    server_version: str | None = field("Version of the running server.")
    host: str | None = field("Server address probed.")
    loaded_models: list[OllamaModel] = attrs.field(
        factory=list,
        metadata={"doc": "Models loaded now (a reading of the moment).", "volatile": True},
    )
    gpu_libraries: list[str] = list_field("Bundled GPU library variants installed (cuda_v12...).")
    settings: dict[str, str] = dict_field("OLLAMA_* environment settings.")
    engine: BundledEngine | None = field(
        "The engine the running server uses, from its log (last server start)."
    )


@attrs.define(eq=False, repr=False)
class NamedVersion(Record):
    """A component and its version."""

    name: str | None = field("Component name.")
    version: str | None = field("Its version.")


@attrs.define(eq=False, repr=False)
class LmStudioModel(Record):
    """A model row of ``lms ls`` / ``lms ps``."""

    name: str | None = field("Model key or path.")
    type: str | None = field('"llm" or "embedding".')
    params: str | None = field('Parameter count as printed ("7B").')
    architecture: str | None = field("Architecture as printed.")
    size: str | None = field('Size as printed ("4.37 GB").')


@attrs.define(eq=False, repr=False)
class LmStudio(Record):
    """LM Studio: app, CLI, and its engine packages (not llama.cpp build numbers)."""

    app_version: str | None = field("LM Studio app version.")
    cli_version: str | None = field("lms CLI version, where printed.")
    cli_commit: str | None = field("lms CLI commit, where printed.")
    runtimes: list[NamedVersion] = list_field(
        "Installed engine packages and their LM Studio package versions."
    )
    selected_runtimes: list[NamedVersion] = list_field("Engines selected per model format.")
    loaded_models: list[LmStudioModel] = attrs.field(
        factory=list,
        metadata={"doc": "Models loaded now (lms ps; a reading of the moment).", "volatile": True},
    )
    models: list[LmStudioModel] = list_field("Downloaded models (lms ls).")
    engine: BundledEngine | None = field(
        "The llama.cpp engine selected for GGUF models, from its runtime manifest."
    )


@attrs.define(eq=False, repr=False)
class Jan(Record):
    """Jan."""

    app_version: str | None = field("Jan app version.")
    engines: list[NamedVersion] = list_field("Engines and their versions.")
    engine: BundledEngine | None = field(
        "The llama.cpp build Jan runs (its selected backend, else the one installed)."
    )


@attrs.define(eq=False, repr=False)
class KoboldCpp(Record):
    """koboldcpp."""

    version: str | None = field("koboldcpp version.")
    backend: str | None = field("Backend it started with (CUDA, Vulkan, CLBlast, CPU...).")
    engine: BundledEngine | None = field(
        "Its bundled llama.cpp: the backend it chose, and the build where a banner states it."
    )


@attrs.define(eq=False, repr=False)
class VersionOnly(Record):
    """A tool known by its version alone."""

    version: str | None = field("Version.")


@attrs.define(eq=False, repr=False)
class Llamafile(Record):
    """llamafile."""

    version: str | None = field("llamafile version.")
    engine: BundledEngine | None = field(
        "Its bundled llama.cpp, where its output states the build."
    )


@attrs.define(eq=False, repr=False)
class RamalamaModel(Record):
    """A model in RamaLama's store (``ramalama list --json``)."""

    name: str | None = field(
        'Model as RamaLama lists it, transport and path: "hf://org/repo/file.gguf", '
        '"ollama://library/granite3.1-dense:8b", "file:///models/x.gguf".'
    )
    shortname: str | None = field('The short name that maps to it ("granite"), where one does.')
    size_bytes: int | None = field("Size of its files in the store, bytes.")
    partial: bool | None = field("Only partly downloaded.")


@attrs.define(eq=False, repr=False)
class Ramalama(Record):
    """RamaLama: runs models with llama.cpp, vLLM or MLX, in a container image or on the host."""

    version: str | None = field("ramalama version.")
    runtime: str | None = field(
        'Inference runtime it runs models with ("llama.cpp", "vllm", "mlx"), from ramalama info.'
    )
    container_engine: str | None = field(
        'Container engine it runs models in ("podman", "docker"); null when it found none.'
    )
    use_container: bool | None = field("Whether it runs models in a container (false: the host).")
    image: str | None = field(
        "Container image it runs models from (quay.io/ramalama/cuda:0.25): the engine build "
        "it runs when use_container is true."
    )
    accelerator: str | None = field(
        'Accelerator it detected ("cuda", "hip", "intel", "asahi", "cann", "musa"; "none").'
    )
    models: list[RamalamaModel] = list_field(
        "Models in its store (ramalama list --json; models kept as container images are not "
        "listed: that would ask the container engine)."
    )


@attrs.define(eq=False, repr=False)
class PythonEngine(Record):
    """A Python-installed engine, read from package metadata without importing it."""

    version: str | None = field("Distribution version.")
    build_tag: str | None = field('Local build tag ("cu124", "rocm6.2", "cpu").')


@attrs.define(eq=False, repr=False)
class Frontends(Record):
    """Frontends and engines that run models."""

    ollama: Ollama | None = field("Ollama.")
    lmstudio: LmStudio | None = field("LM Studio.")
    jan: Jan | None = field("Jan.")
    koboldcpp: KoboldCpp | None = field("koboldcpp.")
    llamafile: Llamafile | None = field("llamafile.")
    vllm: VersionOnly | None = field("vLLM (CLI or API server).")
    ramalama: Ramalama | None = field("RamaLama.")
    llama_cpp_python: PythonEngine | None = field("llama-cpp-python.")
    mlx: PythonEngine | None = field("mlx.")
    mlx_lm: PythonEngine | None = field("mlx-lm.")
    exllamav2: PythonEngine | None = field("exllamav2.")
    sglang: PythonEngine | None = field("sglang.")
    transformers: PythonEngine | None = field("transformers.")
    torch: PythonEngine | None = field("torch, with its CUDA/ROCm build tag.")


# -------------------------------------------------------------------------------------- models


@attrs.define(eq=False, repr=False)
class ModelFile(Record):
    """A model file the user named."""

    path: str | None = field("Path as given (home folder shown as ~ when redacted).")
    name: str | None = field("general.name from the GGUF header, or the Ollama model name.")
    size_bytes: int | None = field("File size, bytes.")
    sha256: str | None = field("sha256 of the file contents, hex.")
    format: str | None = field('"gguf", or null when unknown.')
    format_version: int | None = field("GGUF format version.")
    architecture: str | None = field("general.architecture (llama, qwen2...).")
    quantization: str | None = field("GGUF file type as a name (Q4_K_M, F16...).")
    parameters: int | None = field("Parameter count, where stated.")
    digest: str | None = field(
        "Ollama's model digest (its manifest: weights, template and parameters together; "
        "`ollama list` shows its first 12 characters as ID), for models named to Ollama."
    )


# -------------------------------------------------------------------------------------- python


@attrs.define(eq=False, repr=False)
class PythonInfo(Record):
    """The Python that ran envstamp, or the one that ran the command (envstamp run)."""

    version: str | None = field("Python version.")
    implementation: str | None = field("CPython, PyPy...")
    executable: str | None = field("Interpreter path.")
    virtualenv: bool | None = field("Running inside a virtual environment.")
    packages: dict[str, str] = dict_field(
        "Versions of relevant installed distributions, from metadata (not imported)."
    )


# --------------------------------------------------------------------------------------- power


@attrs.define(eq=False, repr=False)
class Power(Record):
    """Power settings (configuration) and supply state (volatile)."""

    ac_online: bool | None = volatile_field("Running on mains power.")
    battery_percent: float | None = volatile_field("Battery charge, percent.")
    platform_profile: str | None = field("ACPI platform profile (performance, balanced...).")
    power_profile: str | None = field("power-profiles-daemon / tuned profile.")
    windows_power_plan: str | None = field("Active Windows power plan.")
    macos_low_power_mode: bool | None = field("macOS Low Power Mode on.")


# ------------------------------------------------------------------------------------ volatile


@attrs.define(eq=False, repr=False)
class Volatile(Record):
    """Readings of the moment: they explain a gap, never block a comparison."""

    cpu_mhz: float | None = field("Mean current CPU clock, MHz.")
    load_1m: float | None = field("1-minute load average.")
    memory_available_bytes: int | None = field("Memory available without swapping, bytes.")
    ac_online: bool | None = field("Running on mains power.")
    gpus: list[GpuState] = list_field("Per-GPU readings.")


# -------------------------------------------------------------------------------------- probes


@attrs.define(eq=False, repr=False)
class ProbeRecord(Record):
    """What one probe did: "no GPU" and "nvidia-smi hung" look different."""

    name: str = attrs.field(metadata={"doc": "Probe name (cpu, gpu_nvidia...).", "volatile": False})
    status: ProbeStatus = attrs.field(
        metadata={
            "doc": "ok, absent, unsupported, permission, timeout or error.",
            "volatile": False,
        }
    )
    source: str | None = field("What answered (file, command, API).")
    duration_ms: float | None = field("Time the probe took, ms.")
    detail: str | None = field("Why it failed, or what it fell back to.")


# ------------------------------------------------------------------------------------ manifest


@attrs.define(eq=False, repr=False, kw_only=True)
class Manifest(Record):
    """Everything envstamp knows about the machine a measurement ran on."""

    schema: str = attrs.field(
        default=SCHEMA_ID,
        metadata={"doc": 'Schema id, "envstamp.manifest/<major>".', "volatile": False},
    )
    envstamp_version: str = attrs.field(
        metadata={"doc": "Version of envstamp that captured this.", "volatile": True}
    )
    captured_at: str = attrs.field(
        metadata={"doc": "UTC time of capture, RFC 3339.", "volatile": True}
    )
    identity_digest: str | None = attrs.field(
        default=None,
        metadata={
            "doc": "sha256: of the canonical identity and configuration parts.",
            "volatile": True,
        },
    )
    replayed_from: list[str] | None = attrs.field(
        default=None,
        metadata={
            "doc": "Names of the recording folders a replayed capture answered from (capture "
            "--replay), in layer order; null for a live capture.",
            "volatile": True,
        },
    )
    host: Host = section_field(Host, "Which machine.")
    os: OperatingSystem = section_field(OperatingSystem, "Operating system.")
    cpu: Cpu = section_field(Cpu, "Processor.")
    memory: Memory = section_field(Memory, "System memory.")
    gpus: list[Gpu] = list_field("GPUs, one entry per device, whatever the sources.")
    runtimes: Runtimes = section_field(Runtimes, "Compute runtimes.")
    llamacpp: list[LlamaCppBuild] = list_field("llama.cpp builds found.")
    frontends: Frontends = section_field(Frontends, "Frontends and engines.")
    models: list[ModelFile] = list_field("Model files named for this capture.")
    python: PythonInfo = section_field(PythonInfo, "The Python that ran envstamp.")
    env: dict[str, str] = dict_field("Allow-listed environment variables; secrets never.")
    power: Power = section_field(Power, "Power settings and supply.")
    volatile: Volatile = attrs.field(
        factory=Volatile,
        metadata={"doc": "Readings of the moment (not in the digest).", "volatile": True},
    )
    probes: list[ProbeRecord] = attrs.field(
        factory=list,
        metadata={"doc": "What each probe did (not in the digest).", "volatile": True},
    )


def fill_missing(primary: Any, secondary: Any) -> Any:
    """Return ``primary`` with its unknown fields taken from ``secondary`` (same class).

    Used to combine sources: the better source is primary, a fallback fills its holes.
    Lists and mappings count as unknown when empty.
    """
    if primary is None:
        return secondary
    if secondary is None or not attrs.has(type(primary)):
        return primary
    changes: dict[str, Any] = {}
    for a in attrs.fields(type(primary)):
        mine = getattr(primary, a.name)
        theirs = getattr(secondary, a.name)
        if theirs is None:
            continue
        if mine is None or (isinstance(mine, (list, dict)) and not mine and theirs):
            changes[a.name] = theirs
        elif attrs.has(type(mine)) and type(mine) is type(theirs):
            changes[a.name] = fill_missing(mine, theirs)
    return attrs.evolve(primary, **changes) if changes else primary
