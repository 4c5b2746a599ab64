"""The engine a frontend bundles (most often a llama.cpp build), as its names and outputs
reveal it: GPU backends named in package, folder and library names; llama.cpp's own lines in
a frontend's output; what several candidate engines agree on."""

from __future__ import annotations

import re

from envstamp.errors import ParseError
from envstamp.manifest.model import BundledEngine

# GPU backends named inside package, folder and library names, with the version forms
# each uses: "nvidia-cuda12", "cuda_v12", "cuda-12-0", "cu12.0", "rocm_v60002", "vulkan".
_BACKEND_WORDS = re.compile(
    r"(?<![a-z])(?:(cuda|cu(?=\d))[-_ ]?v?(\d+(?:[.-]\d+)?)?|(rocm|hip)(?:[-_ ]?v?(\d+))?"
    r"|(vulkan|metal|sycl|opencl|clblast|musa|cann)(?![a-z]))",
    re.IGNORECASE,
)
_BACKEND_SPELLING = {
    "cuda": "CUDA",
    "cu": "CUDA",
    "rocm": "HIP",
    "hip": "HIP",
    "vulkan": "Vulkan",
    "metal": "Metal",
    "sycl": "SYCL",
    "opencl": "OpenCL",
    "clblast": "CLBlast",
    "musa": "MUSA",
    "cann": "CANN",
}


def backend_in_name(name: str) -> str | None:
    """The GPU backend a package, folder or library name states, with its major version
    where it gives one: "llama.cpp-linux-x86_64-nvidia-cuda12-avx2" -> "CUDA 12",
    "linux-avx2-cuda-cu12.0-x64" -> "CUDA 12.0", "cuda_v11" -> "CUDA 11",
    "rocm_v60002" -> "HIP 6", "...-apple-metal-advsimd" -> "Metal"; None when it names none
    (a CPU build, or a name that says nothing)."""
    spelled = version = None
    for found in _BACKEND_WORDS.finditer(name):
        cuda, cuda_version, rocm, rocm_version, other = found.groups()
        word = _BACKEND_SPELLING[(cuda or rocm or other or "").lower()]
        if spelled not in (None, word):
            continue  # the first backend named is the one; "cuda-cu12.0" names it twice
        spelled = word
        if version is None and cuda_version:
            version = cuda_version.replace("-", ".")
            if version.isdigit() and len(version) >= 3:  # "cu124", "cuda1210": 12.4, 12.1
                version = f"{version[:2]}.{version[2]}"
        elif version is None and rocm_version:
            # ROCm folders encode the version as MMmmpp (60002 = 6.0.2); keep the major.
            number = int(rocm_version)
            version = str(number // 10000 if number >= 10000 else number)
    if spelled is None:
        return None
    return f"{spelled} {version}" if version else spelled


def engine_from_llama_output(text: str, source: str) -> BundledEngine | None:
    """The llama.cpp build a frontend's own output reveals (a build-info line, device and
    backend lines), read by llama.cpp's log parser; None when it says nothing of it.

    Frontends that embed llama.cpp (llamafile, koboldcpp) print llama.cpp's own lines beside
    theirs, so the same parser reads them wherever they appear."""
    from envstamp.parsers.llamacpp_log import parse_llama_log

    try:
        build = parse_llama_log(text)
    except ParseError:
        return None
    named = build.backends or []
    gpu = [name for name in named if name not in ("CPU", "BLAS", "RPC")]
    backend = gpu[0] if gpu else ("CPU" if "CPU" in named else None)
    engine = BundledEngine(
        name="llama.cpp",
        version=build.version,
        build_number=build.build_number,
        commit=build.commit,
        backend=backend,
        source=source,
    )
    return engine if says_something(engine) else None


def says_something(engine: BundledEngine | None) -> bool:
    """True when an engine entry states more than its name (a build, commit or backend)."""
    return engine is not None and any(
        value is not None
        for value in (engine.version, engine.build_number, engine.commit, engine.backend)
    )


def agreed_engine(engines: list[BundledEngine], source: str) -> BundledEngine | None:
    """What every candidate engine agrees on, field by field (None where they differ).

    Used where a frontend has several engines installed and does not say which it runs:
    a value they all share is known, one they disagree on is not."""
    if not engines:
        return None
    values = {}
    for name in ("name", "version", "build_number", "commit", "backend"):
        seen = {getattr(engine, name) for engine in engines}
        values[name] = seen.pop() if len(seen) == 1 else None
    agreed = BundledEngine(source=source, **values)
    return agreed if says_something(agreed) else None
