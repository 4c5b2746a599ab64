"""Engine builds in a diff: one finding per build change, and only the build options that
change what runs.

The generic walk reports every field of a llama.cpp build on its own: build number, version,
commit and checkout commit, and each CMake option in ``build_flags``.  Read that way, two
builds of a CPU-only llama.cpp differ in dozens of "high" places: the commit, then every
CUDA, HIP and SYCL option (caches list them whether or not the backend is built) and every
option one of the two versions does not have yet.  This module folds the walk's raw
findings into what a reader needs:

* **one finding per build change** - commit, build number and version together
  ("b3447 (commit b5e95468) -> b4589 (commit cfd74c86)"), with the options that matter
  beneath it (``Difference.under``);
* **options that change what runs**: values compared in effect (``ON`` = ``TRUE`` = ``1``,
  ``"86;89"`` = ``"89;86"``), counted only for a backend one of the builds enables, only
  for the CPU family the builds target, and not the x86 instruction-set switches of a build
  made with ``GGML_NATIVE`` (``-march=native`` decides those);
* the rest - options of backends both builds leave off, of other CPU families, or that exist
  in one version only (``GGML_ET: unset -> OFF``) - as **one low finding** that says so;
* options known on one side only because that side has no CMake cache at all are unknown,
  not "unset".

A frontend's bundled engine (``frontends.<name>.engine``: version, build number, commit) is
folded the same way, so its change reads like a llama.cpp build change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from envstamp.diffing import rules
from envstamp.diffing.model import Difference
from envstamp.diffing.walk import Spot, Walk, make_difference, show_value

# Fields that together say which build it is.
BUILD_IDENTITY = frozenset(
    {
        "llamacpp[].build_number",
        "llamacpp[].version",
        "llamacpp[].commit",
        "llamacpp[].git.commit",
        "llamacpp[].git.describe",
        "llamacpp[].build_flags.LLAMA_BUILD_COMMIT",
        "llamacpp[].build_flags.LLAMA_BUILD_NUMBER",
    }
)
ENGINE_IDENTITY = ("version", "build_number", "commit")

_ON = frozenset({"on", "true", "yes", "1", "y"})
_OFF = frozenset({"off", "false", "no", "0", "n", "", "ignore", "notfound"})

# The backend each option token belongs to (after GGML_ / LLAMA_): ggml's backends
# (one folder each under ggml/src) and the names older builds used for them.
BACKEND_TOKENS: dict[str, str] = {
    "CUDA": "CUDA",
    "CUBLAS": "CUDA",
    "HIP": "HIP",
    "HIPBLAS": "HIP",
    "MUSA": "MUSA",
    "VULKAN": "Vulkan",
    "METAL": "Metal",
    "SYCL": "SYCL",
    "CANN": "CANN",
    "OPENCL": "OpenCL",
    "CLBLAST": "OpenCL",
    "BLAS": "BLAS",
    "RPC": "RPC",
    "KOMPUTE": "Kompute",
    "WEBGPU": "WebGPU",
    "ZDNN": "zDNN",
    "ZENDNN": "ZenDNN",
    "OPENVINO": "OpenVINO",
    "HEXAGON": "Hexagon",
    "VIRTGPU": "VirtGPU",
    "ET": "ET",
}
# Options outside the GGML_<BACKEND>_* naming that still belong to one backend.
BACKEND_OPTIONS: dict[str, str] = {
    "CMAKE_CUDA_ARCHITECTURES": "CUDA",
    "CMAKE_HIP_ARCHITECTURES": "HIP",
    "AMDGPU_TARGETS": "HIP",
    "GPU_TARGETS": "HIP",
}
# Names a build's ``backends`` list may use for a backend, lower case.
_BACKEND_ALIASES: dict[str, str] = {"rocm": "hip", "cublas": "cuda", "clblast": "opencl"}

# CPU-family options: they compile code for one family only.
_X86 = ("GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_AVX_VNNI", "GGML_AVX512", "GGML_FMA",
        "GGML_F16C", "GGML_BMI2")
_X86_PREFIXES = ("GGML_AVX512_", "GGML_AMX_")
FAMILY_OPTIONS: dict[str, tuple[str, ...]] = {
    "loongarch": ("GGML_LASX", "GGML_LSX"),
    "riscv": ("GGML_RVV", "GGML_XTHEADVECTOR"),
    "s390x": ("GGML_VXE", "GGML_NNPA"),
    "arm": ("GGML_CPU_ARM_ARCH", "GGML_CPU_KLEIDIAI"),
    "powerpc": ("GGML_CPU_POWERPC_CPUTYPE",),
    "apple": ("GGML_ACCELERATE",),
}
FAMILY_PREFIXES: dict[str, tuple[str, ...]] = {"riscv": ("GGML_RV_",), "x86": _X86_PREFIXES}
_FAMILY_OF_ARCH = (
    (("x86_64", "amd64", "i686", "i386", "x86"), "x86"),
    (("aarch64", "arm64", "arm"), "arm"),
    (("loongarch",), "loongarch"),
    (("riscv",), "riscv"),
    (("s390x",), "s390x"),
    (("ppc", "powerpc"), "powerpc"),
)


# --------------------------------------------------------------------------- the folding


def fold_engine_builds(walk: Walk, a: Any, b: Any) -> None:
    """Rewrite the walk's findings about llama.cpp builds and bundled engines in place."""
    for path, build_a, build_b in walk.pairs.get("llamacpp", []):
        top = _fold_identity(walk, path, build_a, build_b)
        _fold_options(walk, path, build_a, build_b, under=top, manifests=(a, b))
    _fold_bundled_engines(walk, a, b)


def _fold_identity(walk: Walk, path: str, build_a: Any, build_b: Any) -> str | None:
    """One "llama.cpp build" finding when the build's identity changed; its path, or None.

    Only what both sides know is compared: the same binary seen once with its checkout and
    CMake cache and once as a lone copy has the same commit (and version) on both sides, and
    is no build change.  What only one side knows (a number read from ``git describe``) is
    one "unknown on A" entry, never a change."""
    prefix = path + "."
    parts = [d for d in walk.found if d.path.startswith(prefix) and d.pattern in BUILD_IDENTITY]
    lone = [d for d in walk.unknown
            if d.path.startswith(prefix) and d.pattern in BUILD_IDENTITY]
    walk.found = [d for d in walk.found if d not in parts]
    walk.unknown = [d for d in walk.unknown if d not in lone]
    summary_a, summary_b = build_summary(build_a), build_summary(build_b)
    rule = rules.rule_for("llamacpp[].build")
    spot = Spot(f"{path}.build", "llamacpp[].build")
    if identity_changed(summary_a, summary_b):
        walk.found.append(_identity_difference(rule, spot, summary_a, summary_b))
        return spot.path
    if one_sided_parts(summary_a, summary_b) != ([], []):
        walk.unknown.append(_identity_unknown(rule, spot, summary_a, summary_b))
    return None


_PART_NAMES = {"build_number": "build number", "commit": "commit", "version": "version"}


def identity_changed(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two builds differ in a part of their identity that both sides know."""
    commit_a, commit_b = a.get("commit"), b.get("commit")
    if commit_a and commit_b and not rules.same_commit(str(commit_a), str(commit_b)):
        return True
    number_a, number_b = a.get("build_number"), b.get("build_number")
    if number_a is not None and number_b is not None and number_a != number_b:
        return True
    version_a, version_b = a.get("version"), b.get("version")
    return bool(version_a and version_b) and (
        rules.normalise_version(str(version_a)) != rules.normalise_version(str(version_b))
    )


def one_sided_parts(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The parts of a build's identity unknown on A, and those unknown on B."""
    def known(summary: Mapping[str, Any], key: str) -> bool:
        return summary.get(key) not in (None, "")

    keys = list(_PART_NAMES)
    return ([_PART_NAMES[k] for k in keys if known(b, k) and not known(a, k)],
            [_PART_NAMES[k] for k in keys if known(a, k) and not known(b, k)])


def _identity_unknown(rule: rules.Rule, spot: Spot, a: dict[str, Any],
                      b: dict[str, Any]) -> Difference:
    """ "unknown on A: build number, commit; B: b5308 (commit 8733e0cf6eef)"."""
    lacks_a, lacks_b = one_sided_parts(a, b)
    text_a, text_b = describe_build(a), describe_build(b)
    if lacks_a and not lacks_b:
        change = f"unknown on A: {', '.join(lacks_a)}; B: {text_b}"
    elif lacks_b and not lacks_a:
        change = f"unknown on B: {', '.join(lacks_b)}; A: {text_a}"
    else:
        change = (f"unknown on A: {', '.join(lacks_a)}; unknown on B: {', '.join(lacks_b)}; "
                  f"A: {text_a}; B: {text_b}")
    return make_difference(rule, spot, text_a, text_b, change=change)


def _identity_difference(rule: rules.Rule, spot: Spot, a: dict[str, Any],
                         b: dict[str, Any]) -> Difference:
    text_a, text_b = describe_build(a), describe_build(b)
    number_a, number_b = a.get("build_number"), b.get("build_number")
    # The same build number on both sides (a repackaged engine) is no distance, nor newer.
    detail = "" if number_a == number_b else rules.build_distance(number_a, number_b)
    return make_difference(rule, spot, text_a, text_b, change=f"{text_a} -> {text_b}",
                           detail=detail)


def build_summary(build: Any) -> dict[str, Any]:
    """Build number, commit and version of a build (a checkout's or cache's commit when the
    binary printed none)."""
    flags = getattr(build, "build_flags", None) or {}
    git = getattr(build, "git", None)
    number = getattr(build, "build_number", None)
    if number is None:
        number = _int(flags.get("LLAMA_BUILD_NUMBER"))
    if number is None and git is not None:
        number = number_from_describe(git.describe)
    commit = (getattr(build, "commit", None) or (git.commit if git is not None else None)
              or flags.get("LLAMA_BUILD_COMMIT"))
    return {"build_number": number, "commit": commit, "version": getattr(build, "version", None)}


_DESCRIBE = re.compile(r"b(\d+)(?:-(\d+)-g[0-9a-f]+)?(?:-dirty)?")


def number_from_describe(describe: str | None) -> int | None:
    """llama.cpp tags releases bNNNN with their build number: "b5308" -> 5308, and
    "b5308-3-g1a2b3c4" (three commits on) -> 5311."""
    match = _DESCRIBE.fullmatch(describe or "")
    if not match:
        return None
    return int(match.group(1)) + int(match.group(2) or 0)


def describe_build(summary: Mapping[str, Any]) -> str:
    """ "b4589 (commit cfd74c86, version 0.5.0)"; "unknown" when nothing is known."""
    number, commit, version = (summary.get(k) for k in ("build_number", "commit", "version"))
    extra = [f"commit {str(commit)[:12]}"] if commit else []
    if version and str(version) != str(number):
        extra.append(f"version {version}")
    head = f"b{number}" if number is not None else ""
    if not head:
        return ", ".join(extra) if extra else "unknown"
    return f"{head} ({', '.join(extra)})" if extra else head


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------- options


def _fold_options(
    walk: Walk, path: str, build_a: Any, build_b: Any, *, under: str | None,
    manifests: tuple[Any, Any],
) -> None:
    prefix = f"{path}.build_flags."
    raw = [d for d in walk.found if d.path.startswith(prefix)]
    if not raw:
        return
    walk.found = [d for d in walk.found if not d.path.startswith(prefix)]
    flags_a, flags_b = build_a.build_flags or {}, build_b.build_flags or {}
    if not flags_a or not flags_b:
        walk.unknown.append(_options_unknown(path, flags_a, flags_b))
        return
    view = OptionContext.of(build_a, build_b, manifests)
    quiet: dict[str, tuple[str, str]] = {}
    for d in raw:
        key = d.path[len(prefix):]
        why = view.no_effect(key)
        if why is None:
            walk.found.append(_beneath(d, under))
        elif why[0] != "same":
            quiet[key] = why
    if quiet:
        walk.found.append(_quiet_options(path, quiet, flags_a, flags_b, under))


def _beneath(d: Difference, under: str | None) -> Difference:
    d.under = under
    return d


def _options_unknown(path: str, flags_a: Mapping[str, str],
                     flags_b: Mapping[str, str]) -> Difference:
    side, known = ("A", flags_b) if not flags_a else ("B", flags_a)
    other = "B" if side == "A" else "A"
    rule = rules.rule_for("llamacpp[].build_flags")
    spot = Spot(f"{path}.build_flags", "llamacpp[].build_flags")
    change = (f"unknown on {side} (no CMake cache found beside that build); "
              f"{other}: {len(known)} options")
    return make_difference(rule, spot, dict(flags_a) or None, dict(flags_b) or None,
                           change=change)


def _quiet_options(
    path: str, quiet: Mapping[str, tuple[str, str]], flags_a: Mapping[str, str],
    flags_b: Mapping[str, str], under: str | None,
) -> Difference:
    """One low finding for every option that differs without changing what runs."""
    parts = _quiet_parts(quiet)
    rule = rules.rule_for("llamacpp[].build_flags")
    spot = Spot(f"{path}.build_flags", "llamacpp[].build_flags")
    shown_a = [_setting(k, flags_a.get(k)) for k in sorted(quiet)]
    shown_b = [_setting(k, flags_b.get(k)) for k in sorted(quiet)]
    d = make_difference(rule, spot, shown_a, shown_b,
                        change=f"{len(quiet)} options: {'; '.join(parts)}")
    d.under = under
    return d


def _quiet_parts(quiet: Mapping[str, tuple[str, str]]) -> list[str]:
    """ "24 only in B's version", "21 of backends off in both builds (CUDA, HIP, SYCL)"."""
    by_kind: dict[str, list[str]] = {}
    for kind, detail in quiet.values():
        by_kind.setdefault(kind, []).append(detail)
    parts = []
    for side in ("A", "B"):
        count = by_kind.get("version", []).count(side)
        if count:
            parts.append(f"{count} only in {side}'s version")
    texts = {
        "backend": "of backends off in both builds",
        "family": "for other CPU families",
        "native": "x86 instruction-set switches of a GGML_NATIVE=ON build "
                  "(-march=native decides them)",
    }
    for kind, text in texts.items():
        details = by_kind.get(kind)
        if details:
            names = ", ".join(sorted(set(details), key=str.casefold))
            parts.append(f"{len(details)} {text}" + (f" ({names})" if kind != "native" else ""))
    return parts


def _setting(key: str, value: str | None) -> str:
    return f"{key}={show_value(value, unset=True)}"


def _names(keys: list[str], limit: int = 6) -> str:
    keys = sorted(keys)
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


class OptionContext:
    """What decides whether an option of two builds changes what runs."""

    def __init__(self, flags: tuple[Mapping[str, str], Mapping[str, str]],
                 backends: tuple[frozenset[str], frozenset[str]],
                 families: tuple[str | None, str | None], native: tuple[bool, bool]) -> None:
        self.flags = flags
        self.backends = backends  # lower-case names of the backends each build has
        self.families = families
        self.native = native

    @classmethod
    def of(cls, build_a: Any, build_b: Any, manifests: tuple[Any, Any]) -> OptionContext:
        flags = (build_a.build_flags or {}, build_b.build_flags or {})
        backends = (enabled_backends(build_a), enabled_backends(build_b))
        families = (cpu_family(build_a, manifests[0]), cpu_family(build_b, manifests[1]))
        native = tuple(
            is_on(f.get("GGML_NATIVE")) and not _msvc(build) for f, build in
            zip(flags, (build_a, build_b), strict=True)
        )
        return cls(flags, backends, families, (native[0], native[1]))

    def no_effect(self, key: str) -> tuple[str, str] | None:
        """None when the option changes what runs; else why it does not: ("same", "") when
        the values are the same in effect, ("backend", "CUDA"), ("version", "B") for an
        option only B's version has, ("family", "riscv") or ("native", "A")."""
        x, y = self.flags[0].get(key), self.flags[1].get(key)
        if x is not None and y is not None and same_in_effect(x, y):
            return ("same", "")
        backend = option_backend(key)
        name = backend.casefold() if backend else ""
        if backend is not None and not _is_switch(key) and not (
            name in self.backends[0] or name in self.backends[1]
        ):
            return ("backend", backend)
        if x is None or y is None:
            side = "B" if x is None else "A"
            other = self.backends[0] if x is None else self.backends[1]
            if _is_switch(key) and is_on(x if y is None else y) and name not in other:
                return None  # a backend only one build has
            return ("version", side)
        family = option_family(key)
        known = [f for f in self.families if f is not None]
        if family is not None and len(known) == 2 and family not in known:
            return ("family", family)
        if family == "x86" and any(self.native):
            return ("native", "A" if self.native[0] else "B")
        return None


def same_in_effect(x: str, y: str) -> bool:
    """ON = TRUE = 1, OFF = FALSE = 0 (CMake's spellings); lists compare as sets."""
    a, b = x.strip().casefold(), y.strip().casefold()
    if a == b:
        return True
    if (a in _ON and b in _ON) or (a in _OFF and b in _OFF):
        return True
    if ";" in a or ";" in b:
        return {p.strip() for p in a.split(";") if p.strip()} == {
            p.strip() for p in b.split(";") if p.strip()
        }
    return False


def is_on(value: str | None) -> bool:
    return value is not None and value.strip().casefold() in _ON


def option_backend(key: str) -> str | None:
    """The backend an option belongs to ("GGML_CUDA_FA" -> "CUDA"), or None."""
    if key in BACKEND_OPTIONS:
        return BACKEND_OPTIONS[key]
    rest = _strip_prefix(key)
    if rest is None:
        return None
    token = rest.split("_", 1)[0]
    return BACKEND_TOKENS.get(token)


def _is_switch(key: str) -> bool:
    """GGML_CUDA itself (not GGML_CUDA_FA): the option that builds the backend."""
    rest = _strip_prefix(key)
    return rest is not None and rest in BACKEND_TOKENS


def _strip_prefix(key: str) -> str | None:
    for prefix in ("GGML_", "LLAMA_"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return None


def option_family(key: str) -> str | None:
    """The CPU family an option compiles for ("GGML_LASX" -> "loongarch"), or None."""
    if key in _X86:
        return "x86"
    for family, names in FAMILY_OPTIONS.items():
        if key in names:
            return family
    for family, prefixes in FAMILY_PREFIXES.items():
        if key.startswith(prefixes):
            return family
    return None


def enabled_backends(build: Any) -> frozenset[str]:
    """Lower-case names of the backends a build has: its ``backends`` and the switches that
    are on in its options (the CPU backend unless GGML_CPU is off)."""
    found = {_BACKEND_ALIASES.get(n.casefold(), n.casefold()) for n in build.backends or []}
    for key, value in (build.build_flags or {}).items():
        if _is_switch(key) and is_on(value):
            backend = option_backend(key)
            if backend is not None:
                found.add(backend.casefold())
    return frozenset(found)


def cpu_family(build: Any, manifest: Any) -> str | None:
    """x86, arm, loongarch... of the target a build was made for (else the machine's CPU).
    Apple builds count as "apple" for Accelerate, besides their CPU family."""
    # targets read "x86_64-linux-gnu", "aarch64-apple-darwin" or (newer builds) "Linux x86_64"
    words = re.split(r"[\s/-]+", (getattr(build, "target", None) or "").casefold())
    cpu = getattr(manifest, "cpu", None)
    for word in [*words, (getattr(cpu, "arch", None) or "").casefold()]:
        for names, family in _FAMILY_OF_ARCH:
            if word.startswith(names):
                return family
    return None


def _msvc(build: Any) -> bool:
    text = " ".join(filter(None, (getattr(build, "target", None),
                                  getattr(build, "compiler", None)))).casefold()
    return "msvc" in text


# ------------------------------------------------------------------------ bundled engines


def _fold_bundled_engines(walk: Walk, a: Any, b: Any) -> None:
    """frontends.<name>.engine.{version,build_number,commit} -> one finding per frontend."""
    names: dict[str, None] = {}
    for d in walk.found:
        name = _engine_frontend(d.path)
        if name is not None:
            names[name] = None
    for name in names:
        prefix = f"frontends.{name}.engine."
        parts = [d for d in walk.found if d.path.startswith(prefix)
                 and d.path[len(prefix):] in ENGINE_IDENTITY]
        if not parts:
            continue
        walk.found = [d for d in walk.found if d not in parts]
        engine_a, engine_b = _engine(a, name), _engine(b, name)
        rule = rules.rule_for(f"frontends.{name}.engine.build")
        spot = Spot(f"frontends.{name}.engine.build", f"frontends.{name}.engine.build")
        found = _identity_difference(rule, spot, _engine_summary(engine_a),
                                     _engine_summary(engine_b))
        versions = (getattr(engine_a, "version", None), getattr(engine_b, "version", None))
        folded = _fold_packages(walk, name, versions)
        if folded:
            found = attrs.evolve(found, reason=f"{found.reason} (with {folded})")
        walk.found.append(found)
    for name in _package_frontends(walk):
        _fold_packages(walk, name, None)


# A frontend's lists of engine packages and their versions (LM Studio's runtimes and the
# ones selected per format, Jan's backends).
_PACKAGE_LISTS = ("selected_runtimes", "runtimes", "engines")


def _package_of(path: str, name: str) -> str | None:
    """ "runtimes[llama.cpp-...-cuda12-avx2]" for a version path of a package list, else None."""
    prefix = f"frontends.{name}."
    if not (path.startswith(prefix) and path.endswith("].version")):
        return None
    item = path[len(prefix): -len(".version")]
    return item if item.split("[", 1)[0] in _PACKAGE_LISTS else None


def _package_frontends(walk: Walk) -> list[str]:
    names: dict[str, None] = {}
    for d in walk.found:
        parts = d.path.split(".", 2)
        if len(parts) == 3 and parts[0] == "frontends" and _package_of(d.path, parts[1]):
            names[parts[1]] = None
    return list(names)


def _fold_packages(walk: Walk, name: str, versions: tuple[Any, Any] | None) -> str:
    """One engine update is one finding: a frontend's package versions that moved exactly as
    its engine's version did (``versions``) are part of the engine finding; without one, a
    package that moved in both lists (installed and selected) is said once, as selected.
    Returns the folded packages in words ("" when none)."""
    packages = [d for d in walk.found if _package_of(d.path, name)]
    if versions is not None:
        same = [d for d in packages if (d.a, d.b) == versions and None not in versions]
    else:
        chosen = f"frontends.{name}.selected_runtimes["
        selected = {(_item_key(d.path), d.a, d.b) for d in packages if d.path.startswith(chosen)}
        same = [d for d in packages if not d.path.startswith(chosen)
                and (_item_key(d.path), d.a, d.b) in selected]
    walk.found = [d for d in walk.found if d not in same]
    walk.folded.extend(same)
    return ", ".join(str(_package_of(d.path, name)) for d in same)


def _item_key(path: str) -> str:
    """The key in a list item's path: "...runtimes[llama.cpp-x].version" -> "llama.cpp-x"."""
    return path[path.rfind("[") + 1: path.rfind("]")]


def _engine_frontend(path: str) -> str | None:
    parts = path.split(".")
    if len(parts) == 4 and parts[0] == "frontends" and parts[2] == "engine" and (
        parts[3] in ENGINE_IDENTITY
    ):
        return parts[1]
    return None


def _engine(manifest: Any, name: str) -> Any:
    frontend = getattr(getattr(manifest, "frontends", None), name, None)
    return getattr(frontend, "engine", None)


def _engine_summary(engine: Any) -> dict[str, Any]:
    return {key: getattr(engine, key, None) for key in ENGINE_IDENTITY}
