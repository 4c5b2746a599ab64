"""What a cold capture imports: a frontend's parsers only once the frontend is found.

Their regular expressions compile at import (issue 13 retired LazyPattern); on a machine
without koboldcpp, llamafile, vLLM, LM Studio, Jan or Ollama, importing those parsers cost
a capture 6-7 ms of CPU for nothing (Ollama's, once its probe read ``OLLAMA_HOST`` through
``parsers.ollama_host`` alone, 1.5-4.7 ms more) (docs/decisions.md, "Cold capture against
pyperf").  The probes import them where they read what the tool said.
"""

from __future__ import annotations

import json
import subprocess
import sys

TOOL_PARSERS = [
    "envstamp.parsers.koboldcpp",
    "envstamp.parsers.llamafile",
    "envstamp.parsers.vllm",
    "envstamp.parsers.lmstudio",
    "envstamp.parsers.info_plist",
    "envstamp.parsers.jan",
    "envstamp.parsers.ollama",
    "envstamp.parsers.ollama_log",
    "envstamp.parsers.bundled_engine",
]

PROBE_MODULES = [
    "envstamp.probes.llm.engines",
    "envstamp.probes.llm.jan",
    "envstamp.probes.llm.lmstudio",
    "envstamp.probes.llm.ollama",
]


def _imported_after(code: str) -> list[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


def test_importing_the_frontend_probes_imports_no_tool_parser() -> None:
    imported = _imported_after("\n".join(f"import {name}" for name in PROBE_MODULES))
    assert set(PROBE_MODULES) <= set(imported)
    assert sorted(set(TOOL_PARSERS) & set(imported)) == []


def test_the_tool_parsers_are_what_the_probes_use() -> None:
    """The list above names real modules, each imported by one of these probes' code."""
    from pathlib import Path

    import envstamp

    probes = Path(envstamp.__file__).parent / "probes" / "llm"
    text = "".join((probes / f"{name.rsplit('.', 1)[1]}.py").read_text() for name in PROBE_MODULES)
    for name in TOOL_PARSERS:
        if name != "envstamp.parsers.bundled_engine":  # imported by the parsers themselves
            assert f"from {name} import" in text, name
    imported = _imported_after("import envstamp.parsers.koboldcpp")
    assert "envstamp.parsers.bundled_engine" in imported
