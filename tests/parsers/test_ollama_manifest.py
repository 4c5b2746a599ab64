"""Ollama model names and the model layer of their manifests (the models probe resolving them:
tests/probes/test_model_file.py)."""

from __future__ import annotations

import json

import pytest

from envstamp.errors import ParseError
from envstamp.parsers.ollama_manifest import model_layer_digest, parse_ollama_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("llama3.2:3b", ("registry.ollama.ai", "library", "llama3.2", "3b", "llama3.2:3b")),
        ("mistral", ("registry.ollama.ai", "library", "mistral", "latest", "mistral:latest")),
        ("jdoe/coder:q4", ("registry.ollama.ai", "jdoe", "coder", "q4", "jdoe/coder:q4")),
        ("hf.co/org/Repo-GGUF:Q4_K_M",
         ("hf.co", "org", "Repo-GGUF", "Q4_K_M", "hf.co/org/Repo-GGUF:Q4_K_M")),
    ],
)
def test_ollama_names(name: str, expected: tuple[str, ...]) -> None:
    ref = parse_ollama_name(name)
    assert ref is not None
    assert (ref.host, ref.namespace, ref.model, ref.tag, ref.display) == expected


@pytest.mark.parametrize("name", ["./m.gguf", "/abs/m.gguf", "m.gguf", "a/b/c/d", "C:\\m", ""])
def test_paths_are_not_ollama_names(name: str) -> None:
    assert parse_ollama_name(name) is None


def test_ollama_manifest_layers() -> None:
    layer = {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + "a" * 64}
    assert model_layer_digest(json.dumps({"layers": [layer]})) == "a" * 64
    assert model_layer_digest(json.dumps({"layers": []})) is None
    for bad in ("", "[]", "{}", "not json"):
        with pytest.raises(ParseError):
            model_layer_digest(bad)
