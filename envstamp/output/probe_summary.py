"""What the probes did, for a person (issue 15): the LLM stack's "not found" lines, the probes'
line of the summary in words, and the listing of every probe that ``capture -v`` prints.

A line that vanishes when nothing is found cannot be told apart from a part nobody looked at,
so the parts of the LLM stack say "not found" when their probe looked and found nothing,
and "not known" when it failed.  Whether a probe looked is read from its record
(``manifest.probes``); a manifest without records (hand-made, or older) gets no such line.
"""

from __future__ import annotations

from envstamp.manifest.model import Frontends, Manifest, ProbeRecord

Row = tuple[str, str]

# Probes that run only when asked ("--model"): "unsupported" means nobody asked.
ON_REQUEST = {"models": "--model"}

# A record's status in the words the summary and the listing print.
STATUS_WORDS = {
    "ok": "ok",
    "absent": "found nothing",
    "unsupported": "not applicable",
    "permission": "permission denied",
    "timeout": "timed out",
    "error": "error",
}
FAILED = ("permission", "timeout", "error")

# Each frontend of the summary: its name, the probe that looks for it, whether it was found.
_PYTHON_ENGINES = (
    "llama_cpp_python", "mlx", "mlx_lm", "exllamav2", "sglang", "transformers", "torch"
)
FRONTENDS: tuple[tuple[str, str, str], ...] = (
    ("Ollama", "ollama", "ollama"),
    ("LM Studio", "lmstudio", "lmstudio"),
    ("Jan", "jan", "jan"),
    ("koboldcpp", "engines", "koboldcpp"),
    ("llamafile", "engines", "llamafile"),
    ("vLLM", "engines", "vllm"),
    ("Python engines", "engines", "python"),
    # Skipped where no "ramalama" probe record exists (a manifest from before that probe).
    ("RamaLama", "ramalama", "ramalama"),
)


def status_word(record: ProbeRecord) -> str:
    """ "ok", "found nothing", "not applicable", "not asked", "timed out"..."""
    if record.status == "unsupported" and record.name in ON_REQUEST:
        return "not asked"
    return STATUS_WORDS.get(record.status, record.status)


def _records(manifest: Manifest) -> dict[str, ProbeRecord]:
    return {record.name: record for record in manifest.probes}


def llama_not_found(manifest: Manifest) -> list[Row]:
    """The llama.cpp line when no build is in the manifest: "not found" when the probe looked
    (its detail says where), "not known" when it failed; nothing when it did not run."""
    if manifest.llamacpp:
        return []
    record = _records(manifest).get("llamacpp")
    if record is None or record.status not in ("absent", *FAILED):
        return []
    if record.status == "absent":
        where = f" ({record.detail})" if record.detail else ""
        return [("llama.cpp", f"not found{where}")]
    return [("llama.cpp", f"not known: the probe {status_word(record)}")]


def _found(frontends: Frontends, field: str) -> bool:
    if field == "python":
        return any(
            engine is not None and engine.version
            for engine in (getattr(frontends, name) for name in _PYTHON_ENGINES)
        )
    return getattr(frontends, field, None) is not None


def frontends_not_found(manifest: Manifest, *, any_shown: bool) -> list[Row]:
    """One line naming each frontend looked for and not found (and one for those whose probe
    failed), labelled "Frontends" when no frontend line precedes it (``any_shown``)."""
    records = _records(manifest)
    missing: list[str] = []
    unknown: list[str] = []
    for name, probe, field in FRONTENDS:
        record = records.get(probe)
        if record is None or _found(manifest.frontends, field):
            continue
        if record.status in ("absent", "ok"):
            missing.append(name)
        elif record.status in FAILED:
            unknown.append(f"{name} ({probe} probe {status_word(record)})")
    texts = [f"not found: {', '.join(missing)}"] if missing else []
    texts += [f"not known: {', '.join(unknown)}"] if unknown else []
    labels = [""] * len(texts) if any_shown else ["Frontends", ""][: len(texts)]
    return list(zip(labels, texts, strict=True))


def probe_rows(manifest: Manifest) -> list[Row]:
    """ "Probes  21: 8 ok, 10 found nothing, 2 not applicable, 1 not asked", then one line
    per probe that failed."""
    if not manifest.probes:
        return []
    counts: dict[str, int] = {}
    for record in manifest.probes:
        word = status_word(record)
        counts[word] = counts.get(word, 0) + 1
    order = [*STATUS_WORDS.values(), "not asked"]
    ranked = sorted(counts.items(), key=lambda item: order.index(item[0]))
    summary = f"{len(manifest.probes)}: " + ", ".join(f"{n} {word}" for word, n in ranked)
    trouble = [
        f"{r.name}: {status_word(r)}" + (f" ({r.detail})" if r.detail else "")
        for r in manifest.probes
        if r.status in FAILED
    ]
    return [("Probes", summary), *(("", line) for line in trouble)]


def _duration(record: ProbeRecord) -> str:
    return "" if record.duration_ms is None else f"{record.duration_ms:.1f} ms"


def probe_listing(manifest: Manifest) -> str:
    """Every probe, one line each: name, status in words, time, what answered, and why
    (``capture -v``)."""
    if not manifest.probes:
        return "no probe records\n"
    table = [
        (r.name, status_word(r), _duration(r), r.source or "-", r.detail or "")
        for r in manifest.probes
    ]
    widths = [max(len(row[column]) for row in table) for column in range(3)]
    lines = [f"probes ({len(table)}): name, status, time, source, detail"]
    for name, word, took, source, detail in table:
        line = f"  {name.ljust(widths[0])}  {word.ljust(widths[1])}  {took.rjust(widths[2])}"
        line += f"  {source}" + (f"  ({detail})" if detail else "")
        lines.append(line)
    return "\n".join(lines) + "\n"
