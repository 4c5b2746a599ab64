"""Ollama model names (``llama3.2:3b``, ``user/model``, ``hf.co/org/repo:Q4_K_M``) and the
manifests Ollama keeps for them: where a name's manifest lives, and the digest of its model
layer (the GGUF blob, whose file name is its sha256)."""

from __future__ import annotations

import json
import re
from typing import NamedTuple

from envstamp.errors import ParseError

OLLAMA_REGISTRY = "registry.ollama.ai"
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
_OLLAMA_NAME = re.compile(r"^[A-Za-z0-9][\w.\-]*(?:/[\w.\-]+){0,2}(?::[\w.\-]+)?$")
_SHA256 = re.compile(r"^sha256[:-]([0-9a-f]{64})$")


class OllamaRef(NamedTuple):
    """An Ollama model name split into where its manifest lives."""

    host: str
    namespace: str
    model: str
    tag: str

    @property
    def display(self) -> str:
        prefix = ""
        if self.host != OLLAMA_REGISTRY:
            prefix = f"{self.host}/{self.namespace}/"
        elif self.namespace != "library":
            prefix = f"{self.namespace}/"
        return f"{prefix}{self.model}:{self.tag}"


def parse_ollama_name(name: str) -> OllamaRef | None:
    """ "llama3.2:3b" -> registry.ollama.ai/library/llama3.2/3b; None when not such a name."""
    text = name.strip()
    if not _OLLAMA_NAME.match(text) or text.endswith((".gguf", ".bin")):
        return None
    base, _, tag = text.partition(":")
    parts = base.split("/")
    if len(parts) == 1:
        parts = [OLLAMA_REGISTRY, "library", *parts]
    elif len(parts) == 2:
        parts = [OLLAMA_REGISTRY, *parts]
    return OllamaRef(parts[0], parts[1], parts[2], tag or "latest")


def model_layer_digest(manifest_text: str) -> str | None:
    """Hex sha256 of the model layer of an Ollama manifest (JSON)."""
    try:
        data = json.loads(manifest_text)
    except ValueError:
        raise ParseError("Ollama manifest is not JSON") from None
    layers = data.get("layers") if isinstance(data, dict) else None
    if not isinstance(layers, list):
        raise ParseError("Ollama manifest has no layers")
    for layer in layers:
        if isinstance(layer, dict) and layer.get("mediaType") == OLLAMA_MODEL_LAYER:
            match = _SHA256.match(str(layer.get("digest", "")))
            if match:
                return match.group(1)
    return None
