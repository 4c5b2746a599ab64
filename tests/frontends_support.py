"""Hand-made recorded hosts for the frontend probes (Ollama, LM Studio, Jan, engines).

We have no Mac with LM Studio, no Windows box with Ollama, no koboldcpp build here, so these
hosts are written from each tool's documented layout and output formats.  A host is a spec
(below); :func:`record_host` runs the real probes against it through a recording runner, so
the folder holds exactly the answers the probes ask for, in the format ``--raw`` writes.

Regenerate the committed folders after changing what a probe asks:

    python tests/frontends_support.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from envstamp.probes.context import CaptureOptions, ProbeContext, ProbeFailure
from envstamp.runner import Answer, LiveRunner, RecordingRunner

HOSTS = Path(__file__).parent / "fixtures" / "hosts"
LOGS = Path(__file__).parent / "fixtures" / "frontends"
PROBES = ("ollama", "lmstudio", "jan", "engines")
REFUSED = {"status": "absent", "detail": "connection refused (not running)"}


class AskingRunner(LiveRunner):
    """The live system, noting the operation of every question a probe asks ("which", "env",
    "cmd", "http"...): a probe of a tool that is not installed must ask only cheap ones."""

    def __init__(self, command_timeout: float = 0.5) -> None:
        super().__init__(command_timeout=command_timeout)
        self.asked: list[str] = []

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> Answer:
        self.asked.append(op)
        return super()._answer(op, key, compute)


def ok(stdout: str = "", stderr: str = "", code: int = 0) -> Answer:
    """A command that ran."""
    return {"status": "ok", "returncode": code, "stdout": stdout, "stderr": stderr}


def http(body: Any, code: int = 200) -> Answer:
    """A loopback HTTP answer."""
    text = body if isinstance(body, str) else json.dumps(body)
    return {"status": "ok", "code": code, "body": text}


class SpecRunner(RecordingRunner):
    """Answers from a host spec (anything unlisted is absent) and records every answer."""

    def __init__(self, folder: Path, spec: dict[str, Any]) -> None:
        super().__init__(folder)
        self.spec = spec

    def _answer(self, op: str, key: dict[str, Any], compute: Any) -> Answer:
        return super()._answer(op, key, lambda: self._from_spec(op, key))

    def _from_spec(self, op: str, key: dict[str, Any]) -> Answer:
        spec = self.spec
        path = key.get("path")
        files: dict[str, Any] = spec.get("files", {})
        dirs: dict[str, list[str]] = spec.get("dirs", {})
        if op == "platform":
            return dict(spec["platform"])
        if op == "env":
            return {"value": spec.get("env", {}).get(key["name"])}
        if op == "env_names":
            return {"names": sorted(spec.get("env", {}))}
        if op == "which":
            return {"path": spec.get("which", {}).get(key["name"])}
        if op == "realpath":
            return {"path": spec.get("realpath", {}).get(path, path)}
        if op == "stat":
            if path in dirs:
                return {"exists": True, "is_dir": True, "size": 4096, "mtime_ns": 0, "mode": 0o755}
            if path in files:
                content = files[path]
                size = len(content.encode() if isinstance(content, str) else content)
                return {"exists": True, "is_dir": False, "size": size, "mtime_ns": 0, "mode": 0o755}
            return {"exists": False}
        if op == "dir":
            found = dirs.get(path)
            return {"status": "ok", "names": sorted(found)} if found is not None else _absent()
        if op == "file":
            text = files.get(path)
            return {"status": "ok", "text": text} if isinstance(text, str) else _absent()
        if op == "bytes":
            data = files.get(path)
            if isinstance(data, str):
                data = data.encode()
            if not isinstance(data, bytes):
                return _absent()
            start = key["offset"]
            return {"status": "ok", "hex": data[start : start + key["length"]].hex()}
        if op == "http":  # a POST is listed under its URL and body
            wanted = key["url"] + (" " + key["body"] if "body" in key else "")
            return dict(spec.get("http", {}).get(wanted, REFUSED))
        if op == "cmd":
            return dict(spec.get("cmds", {}).get(" ".join(key["argv"]), _absent()))
        if op == "packages":
            known = spec.get("packages", {})
            return {"versions": {name: known.get(name) for name in key["names"]}}
        raise AssertionError(f"the frontend probes should not ask for {op}")


def _absent() -> Answer:
    return {"status": "absent", "detail": "not found"}


def run_probe(name: str, runner: Any, options: CaptureOptions | None = None) -> Any:
    """One frontend probe's Outcome (or its ProbeFailure) against ``runner``."""
    import importlib

    module = importlib.import_module(f"envstamp.probes.llm.{name}")
    ctx = ProbeContext(runner=runner, options=options or CaptureOptions())
    try:
        return module.probe(ctx)
    except ProbeFailure as failure:
        return failure


def record_host(folder: Path, spec: dict[str, Any]) -> None:
    """Write the answers the frontend probes ask of ``spec`` into ``folder`` (emptied first)."""
    if folder.exists():
        shutil.rmtree(folder)
    runner = SpecRunner(folder, spec)
    for name in PROBES:
        run_probe(name, runner)


# ------------------------------------------------------------------------------------ hosts


def _linux_platform(home: str) -> dict[str, Any]:
    return {
        "system": "Linux",
        "node": "rig",
        "release": "6.8.0-45-generic",
        "machine": "x86_64",
        "home": home,
        "python_version": "3.11.9",
    }


DANA_BACKENDS = "/home/dana/.lmstudio/extensions/backends/"
KIM_BACKENDS = "/Users/kim/.lmstudio/extensions/backends/"

OLLAMA_PS = {
    "models": [
        {
            "name": "qwen2.5:14b",
            "model": "qwen2.5:14b",
            "size": 10934315008,
            "digest": "7cdf5a0187d5c6bd55e3e6b5c7e2f4f34a1e7d9ec2b2a1c1d8f2b5e6a3c4d5e6",
            "details": {"format": "gguf", "family": "qwen2", "quantization_level": "Q4_K_M"},
            "expires_at": "2025-03-14T10:22:41.118Z",
            "size_vram": 10934315008,
            "context_length": 8192,
        },
        {
            "name": "llama3.3:70b",
            "model": "llama3.3:70b",
            "size": 48912435200,
            "digest": "a6eb4748fd2990ad2952b2335a95a7f952d1a06119a0aa6a2df6cd052a93a3fa",
            "expires_at": "2318-06-01T00:00:00Z",
            "size_vram": 23478000000,
        },
    ]
}

# Ollama server logs in the shapes its releases print (see fixtures/frontends/README.md).
JOURNAL = "journalctl -u ollama --no-pager -o cat -n 5000"
LINUX_JOURNAL = (LOGS / "ollama-server-log-0.11.10-linux-journal.txt").read_text()
MACOS_SERVER_LOG = (LOGS / "ollama-server-log-0.6.5-macos.txt").read_text()
# An old server whose runner printed llama.cpp's build (0.1.x-0.3.x); the installed
# client is newer, so the log is not taken as the running engine's.
WINDOWS_SERVER_LOG = (LOGS / "ollama-server-log-0.1.41-windows.txt").read_bytes().decode()

LINUX_ALL: dict[str, Any] = {
    "platform": _linux_platform("/home/dana"),
    "env": {
        "PATH": "/usr/local/bin:/usr/bin",
        "OLLAMA_FLASH_ATTENTION": "1",
        "OLLAMA_KV_CACHE_TYPE": "q8_0",
        "OLLAMA_API_KEY": "do-not-record",
        "OLLAMA_MODELS": "/srv/ollama/models",
    },
    "which": {
        "ollama": "/usr/local/bin/ollama",
        "koboldcpp-linux-x64-cuda1210": "/opt/kobold/koboldcpp-linux-x64-cuda1210",
        "llamafile": "/usr/local/bin/llamafile",
        "vllm": "/home/dana/venvs/vllm/bin/vllm",
        "journalctl": "/usr/bin/journalctl",
    },
    "dirs": {
        "/usr/local/lib/ollama": [
            "cuda_v12",
            "cuda_v13",
            "libggml-base.so",
            "libggml-cpu-haswell.so",
            "libggml-cpu-skylakex.so",
            "rocm",
            "vulkan",
        ],
        "/usr/local/lib/ollama/cuda_v12": ["libggml-cuda.so"],
        "/usr/local/lib/ollama/cuda_v13": ["libggml-cuda.so"],
        "/usr/local/lib/ollama/rocm": ["libggml-hip.so"],
        "/usr/local/lib/ollama/vulkan": ["libggml-vulkan.so"],
        "/home/dana/.lmstudio": [".internal", "bin", "extensions", "models"],
        "/home/dana/.lmstudio/extensions/backends": [
            "llama.cpp-linux-x86_64-avx2-1.50.2",
            "llama.cpp-linux-x86_64-nvidia-cuda12-avx2-1.50.2",
            "llama.cpp-linux-x86_64-vulkan-avx2-1.47.0",
            "vendor",
        ],
        DANA_BACKENDS + "llama.cpp-linux-x86_64-avx2-1.50.2": [],
        DANA_BACKENDS + "llama.cpp-linux-x86_64-nvidia-cuda12-avx2-1.50.2": [],
        DANA_BACKENDS + "llama.cpp-linux-x86_64-vulkan-avx2-1.47.0": [],
        DANA_BACKENDS + "vendor": [],
        "/home/dana/.local/share/Jan": ["data", "settings.json"],
        "/home/dana/.local/share/Jan/data": ["llamacpp", "models"],
        "/home/dana/.local/share/Jan/data/llamacpp/backends": ["b6324"],
        "/home/dana/.local/share/Jan/data/llamacpp/backends/b6324": [
            "linux-avx2-cuda-cu12.0-x64",
            "linux-avx2-x64",
        ],
        "/home/dana/.local/share/Jan/data/llamacpp/backends/b6324/linux-avx2-cuda-cu12.0-x64": [],
        "/home/dana/.local/share/Jan/data/llamacpp/backends/b6324/linux-avx2-x64": [],
        "/home/dana/venvs/vllm/lib": ["python3.12"],
        "/home/dana/venvs/vllm/lib/python3.12/site-packages": [
            "torch-2.5.1.dist-info",
            "vllm",
            "vllm-0.6.4.post1.dist-info",
        ],
    },
    "files": {
        "/home/dana/.lmstudio/extensions/backends/llama.cpp-linux-x86_64-avx2-1.50.2/"
        "backend-manifest.json": json.dumps(
            {"name": "llama.cpp-linux-x86_64-avx2", "version": "1.50.2", "engine": "llama.cpp"}
        ),
        "/home/dana/.lmstudio/extensions/backends/llama.cpp-linux-x86_64-nvidia-cuda12-avx2-1.50.2/"
        "backend-manifest.json": json.dumps(
            {
                "name": "llama.cpp-linux-x86_64-nvidia-cuda12-avx2",
                "version": "1.50.2",
                "engine": "llama.cpp",
                "gpu": {"vendor": "nvidia", "framework": "cuda12"},
                # Key names made up: the probe reads a build and commit by their shapes
                # wherever a manifest puts them (we have no real manifest that states one).
                "vendor": {"llama_cpp": {"release": "b6490", "commit": "3ecb2f671a"}},
            }
        ),
        # An older engine whose manifest is missing: name and version from the folder name.
        "/home/dana/.lmstudio/.internal/backend-preferences-v1.json": json.dumps(
            [
                {
                    "model_format": "gguf",
                    "name": "llama.cpp-linux-x86_64-nvidia-cuda12-avx2",
                    "version": "1.50.2",
                }
            ]
        ),
        "/home/dana/.lmstudio/.internal/app-install-location.json": json.dumps(
            {"path": "/home/dana/Applications/LM-Studio-0.3.27-4-x64.AppImage", "argv": []}
        ),
        "/home/dana/.lmstudio/.internal/http-server-config.json": json.dumps({"port": 1234}),
        "/home/dana/.lmstudio/bin/lms": "",
        "/home/dana/.local/share/Jan/settings.json": json.dumps({"version": "0.6.9"}),
        "/home/dana/.local/share/Jan/data/settings/@janhq/llamacpp-extension/settings.json": (
            json.dumps(
                [
                    {
                        "key": "version_backend",
                        "title": "Version & Backend",
                        "controllerProps": {"value": "b6324/linux-avx2-cuda-cu12.0-x64"},
                    },
                    {"key": "n_parallel", "controllerProps": {"value": 1}},
                ]
            )
        ),
        "/home/dana/venvs/vllm/bin/vllm": "#!/home/dana/venvs/vllm/bin/python3\nimport sys\n",
    },
    "http": {
        "http://127.0.0.1:11434/api/version": http({"version": "0.11.10"}),
        "http://127.0.0.1:11434/api/ps": http(OLLAMA_PS),
        "http://127.0.0.1:1234/api/v0/models": http(
            {
                "object": "list",
                "data": [
                    {
                        "id": "qwen2.5-coder-14b-instruct",
                        "type": "llm",
                        "arch": "qwen2",
                        "state": "loaded",
                    },
                    {"id": "gemma-3-12b-it", "type": "vlm", "arch": "gemma3", "state": "idle"},
                    {
                        "id": "text-embedding-nomic-embed-text-v1.5",
                        "type": "embeddings",
                        "arch": "nomic-bert",
                        "state": "not-loaded",
                    },
                ],
            }
        ),
    },
    "cmds": {
        "/usr/local/bin/ollama --version": ok(
            stderr="Warning: could not connect to a running Ollama instance\n"
            "Warning: client version is 0.11.10\n"
        ),
        JOURNAL: ok(LINUX_JOURNAL),
        "/home/dana/.lmstudio/bin/lms version": ok("lms - LM Studio CLI - v0.3.27\n"),
        "/opt/kobold/koboldcpp-linux-x64-cuda1210 --version": ok("1.97.4\n"),
        "/usr/local/bin/llamafile --version": ok("llamafile v0.9.3\n"),
    },
    "packages": {"torch": "2.5.1+cu124", "transformers": "4.46.3", "llama-cpp-python": "0.3.9"},
}

MACOS: dict[str, Any] = {
    "platform": {
        "system": "Darwin",
        "node": "studio",
        "release": "24.3.0",
        "machine": "arm64",
        "home": "/Users/kim",
    },
    "env": {"OLLAMA_KEEP_ALIVE": "30m"},
    "which": {"ollama": "/usr/local/bin/ollama"},
    "realpath": {"/usr/local/bin/ollama": "/Applications/Ollama.app/Contents/Resources/ollama"},
    "dirs": {
        "/Users/kim/.lmstudio": [".internal", "extensions"],
        "/Users/kim/.lmstudio/extensions/backends": [
            "llama.cpp-mac-arm64-apple-metal-advsimd-1.46.0",
            "mlx-llm-mac-arm64-apple-metal-advsimd-0.26.1",
        ],
        KIM_BACKENDS + "llama.cpp-mac-arm64-apple-metal-advsimd-1.46.0": [],
        KIM_BACKENDS + "mlx-llm-mac-arm64-apple-metal-advsimd-0.26.1": [],
        "/Users/kim/Library/Application Support/Jan": ["settings.json"],
        "/Users/kim/jan": ["engines", "extensions"],
        "/Users/kim/jan/engines": ["cortex.llamacpp"],
        "/Users/kim/jan/engines/cortex.llamacpp": ["mac-arm64"],
        "/Users/kim/jan/engines/cortex.llamacpp/mac-arm64": ["v0.1.40"],
        "/Users/kim/jan/engines/cortex.llamacpp/mac-arm64/v0.1.40": [],
    },
    "files": {
        "/Users/kim/.ollama/logs/server.log": MACOS_SERVER_LOG,
        "/Users/kim/.lmstudio/extensions/backends/mlx-llm-mac-arm64-apple-metal-advsimd-0.26.1/"
        "backend-manifest.json": json.dumps(
            {"name": "mlx-llm-mac-arm64-apple-metal-advsimd", "version": "0.26.1", "engine": "mlx"}
        ),
        "/Users/kim/.lmstudio/.internal/backend-preferences-v1.json": json.dumps(
            [
                {
                    "model_format": "gguf",
                    "name": "llama.cpp-mac-arm64-apple-metal-advsimd",
                    "version": "1.46.0",
                },
                {
                    "model_format": "safetensors",
                    "name": "mlx-llm-mac-arm64-apple-metal-advsimd",
                    "version": "0.26.1",
                },
            ]
        ),
        "/Users/kim/.lmstudio/.internal/app-install-location.json": json.dumps(
            {"path": "/Applications/LM Studio.app/Contents/MacOS/LM Studio"}
        ),
        "/Applications/LM Studio.app/Contents/Info.plist": (
            '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>'
            "<key>CFBundleName</key><string>LM Studio</string>"
            "<key>CFBundleShortVersionString</key><string>0.3.31</string>"
            "<key>CFBundleVersion</key><string>7</string></dict></plist>\n"
        ),
        "/Applications/Jan.app/Contents/Info.plist": (
            '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>'
            "<key>CFBundleShortVersionString</key><string>0.5.17</string></dict></plist>\n"
        ),
        "/Users/kim/Library/Application Support/Jan/settings.json": json.dumps(
            {"data_folder": "/Users/kim/jan", "quick_ask": False}
        ),
        "/Users/kim/jan/extensions/extensions.json": json.dumps(
            {
                "@janhq/inference-cortex-extension": {
                    "name": "@janhq/inference-cortex-extension",
                    "version": "1.0.25",
                    "productName": "Cortex Inference Engine",
                },
                "@janhq/assistant-extension": {
                    "name": "@janhq/assistant-extension",
                    "version": "1.0.1",
                },
            }
        ),
    },
    "cmds": {
        # Pointed at a closed port, 0.6.x prints only its own version.
        "/usr/local/bin/ollama --version": ok(
            "Warning: could not connect to a running Ollama instance\n"
            "Warning: client version is 0.6.5\n"
        ),
    },
    "packages": {"mlx": "0.26.3", "mlx-lm": "0.26.0", "transformers": "4.53.2"},
}

WINDOWS: dict[str, Any] = {
    "platform": {
        "system": "Windows",
        "node": "GAMING-PC",
        "release": "11",
        "machine": "AMD64",
        "home": "C:\\Users\\sam",
    },
    "env": {
        "APPDATA": "C:\\Users\\sam\\AppData\\Roaming",
        "LOCALAPPDATA": "C:\\Users\\sam\\AppData\\Local",
        "OLLAMA_HOST": "0.0.0.0:11500",
        "OLLAMA_ORIGINS": "*",
    },
    "which": {
        "ollama": "C:\\Users\\sam\\AppData\\Local\\Programs\\Ollama\\ollama.exe",
        "koboldcpp_cu12": "C:\\Tools\\koboldcpp_cu12.exe",
    },
    "dirs": {
        "C:\\Users\\sam\\AppData\\Local\\Programs\\Ollama\\lib\\ollama": [
            "cuda_v12",
            "cuda_v13",
            "ggml-base.dll",
            "ggml-cpu-alderlake.dll",
            "rocm",
        ],
        "C:\\Users\\sam\\AppData\\Local\\Programs\\Ollama\\lib\\ollama\\cuda_v12": [],
        "C:\\Users\\sam\\AppData\\Local\\Programs\\Ollama\\lib\\ollama\\cuda_v13": [],
        "C:\\Users\\sam\\AppData\\Local\\Programs\\Ollama\\lib\\ollama\\rocm": [],
        "C:\\Users\\sam\\.lmstudio": [".internal", "extensions"],
        "C:\\Users\\sam\\.lmstudio\\extensions\\backends": [
            "llama.cpp-win-x86_64-nvidia-cuda12-avx2-1.52.1",
            "llama.cpp-win-x86_64-vulkan-avx2-1.52.1",
        ],
        "C:\\Users\\sam\\.lmstudio\\extensions\\backends\\"
        "llama.cpp-win-x86_64-nvidia-cuda12-avx2-1.52.1": [],
        "C:\\Users\\sam\\.lmstudio\\extensions\\backends\\"
        "llama.cpp-win-x86_64-vulkan-avx2-1.52.1": [],
        "C:\\Users\\sam\\AppData\\Roaming\\Jan": ["data", "settings.json"],
        "C:\\Users\\sam\\AppData\\Roaming\\Jan\\data": ["llamacpp"],
        "C:\\Users\\sam\\AppData\\Roaming\\Jan\\data\\llamacpp\\backends": ["b6150"],
        "C:\\Users\\sam\\AppData\\Roaming\\Jan\\data\\llamacpp\\backends\\b6150": [
            "win-avx2-cuda-cu12.0-x64"
        ],
        "C:\\Users\\sam\\AppData\\Roaming\\Jan\\data\\llamacpp\\backends\\b6150\\"
        "win-avx2-cuda-cu12.0-x64": [],
    },
    "files": {
        "C:\\Users\\sam\\AppData\\Local\\Ollama\\server.log": WINDOWS_SERVER_LOG,
        "C:\\Users\\sam\\.lmstudio\\.internal\\backend-preferences-v1.json": json.dumps(
            {
                "gguf": {
                    "model_format": "gguf",
                    "name": "llama.cpp-win-x86_64-nvidia-cuda12-avx2",
                    "version": "1.52.1",
                }
            }
        ),
        "C:\\Users\\sam\\.lmstudio\\.internal\\app-install-location.json": json.dumps(
            {"path": "C:\\Users\\sam\\AppData\\Local\\Programs\\LM Studio\\LM Studio.exe"}
        ),
        "C:\\Users\\sam\\AppData\\Roaming\\Jan\\settings.json": json.dumps(
            {"version": "0.6.7", "data_folder": "C:\\Users\\sam\\AppData\\Roaming\\Jan\\data"}
        ),
    },
    "http": {
        "http://127.0.0.1:11500/api/version": http({"version": "0.12.3"}),
        "http://127.0.0.1:11500/api/ps": http({"models": []}),
    },
    "cmds": {
        "C:\\Users\\sam\\AppData\\Local\\Programs\\Ollama\\ollama.exe --version": ok(
            "Warning: could not connect to a running Ollama instance\r\n"
            "Warning: client version is 0.12.3\r\n"
        ),
        "C:\\Tools\\koboldcpp_cu12.exe --version": ok("1.98.1\r\n"),
    },
    "packages": {"torch": "2.7.1+cu128"},
}

NONE: dict[str, Any] = {"platform": _linux_platform("/home/empty"), "env": {"PATH": "/usr/bin"}}

HALF: dict[str, Any] = {
    "platform": _linux_platform("/home/lee"),
    "env": {"OLLAMA_HOST": "http://gpu-box.lan:11434"},
    "which": {
        "ollama": "/usr/bin/ollama",
        "lms": "/home/lee/.local/bin/lms",
        "koboldcpp.py": "/home/lee/src/koboldcpp/koboldcpp.py",
        "vllm": "/home/lee/.local/bin/vllm",
    },
    "dirs": {"/usr/lib/ollama": ["libggml-base.so", "libggml-cpu-x64.so"]},
    "files": {
        "/home/lee/src/koboldcpp/koboldcpp.py": '#!/usr/bin/env python3\nKcppVersion = "1.82.1"\n',
        "/home/lee/.local/bin/vllm": "#!/usr/bin/env python3\nfrom vllm.scripts import main\n",
    },
    "cmds": {
        "/usr/bin/ollama --version": ok(
            "Warning: could not connect to a running Ollama instance\n"
            "Warning: client version is 0.4.7\n"
        ),
        "/home/lee/.local/bin/lms version": ok("\nlms - LM Studio CLI\nCLI commit: 3f9c2ab\n"),
        "/home/lee/.local/bin/vllm --version": {
            "status": "timeout",
            "detail": "no answer within 2 s; killed",
            "stdout": "",
            "stderr": "",
        },
    },
}

BROKEN: dict[str, Any] = {
    "platform": _linux_platform("/home/max"),
    "which": {"ollama": "/usr/local/bin/ollama", "llamafile": "/usr/local/bin/llamafile"},
    "dirs": {"/home/max/.lmstudio": [".internal"], "/home/max/.config/Jan": ["settings.json"]},
    "files": {
        "/home/max/.lmstudio/.internal/backend-preferences-v1.json": "{not json",
        "/home/max/.config/Jan/settings.json": "\x00\x01garbage",
    },
    "http": {
        "http://127.0.0.1:11434/api/version": {
            "status": "timeout",
            "detail": "no answer within 0.5 s",
        },
        "http://127.0.0.1:1234/api/v0/models": http("<html>Not Found</html>", code=404),
    },
    "cmds": {
        "/usr/local/bin/ollama --version": {
            "status": "timeout",
            "detail": "no answer within 2 s; killed",
            "stdout": "",
            "stderr": "",
        },
        "/usr/local/bin/llamafile --version": ok("Segmentation fault\n", code=139),
    },
}

SPECS: dict[str, dict[str, Any]] = {
    "frontends-linux-all": LINUX_ALL,
    "frontends-macos": MACOS,
    "frontends-windows": WINDOWS,
    "frontends-none": NONE,
    "frontends-half-installed": HALF,
    "frontends-misbehaving": BROKEN,
}


def main() -> int:
    for name, spec in SPECS.items():
        record_host(HOSTS / name, spec)
        print(f"wrote {HOSTS / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
