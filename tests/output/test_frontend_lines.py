"""The summary's Frontends line names every frontend of the model, those without a text of
their own by their field's description and version: a frontend added to the model shows
without an edit of the renderer (issue 13)."""

from __future__ import annotations

import typing

import attrs
import pytest

from envstamp.manifest.model import Frontends, Llamafile, Manifest, PythonEngine, VersionOnly
from envstamp.output.render import to_text

_OWN_TEXT = {"ollama", "lmstudio", "jan", "koboldcpp"}


def _frontends_line(frontends: Frontends) -> str:
    text = to_text(Manifest(envstamp_version="0", captured_at="t", frontends=frontends))
    lines = [line for line in text.splitlines() if line.lstrip().startswith("Frontends")]
    assert len(lines) == 1, text
    return lines[0]


def test_llamafile_and_vllm_read_as_before() -> None:
    line = _frontends_line(
        Frontends(llamafile=Llamafile(version="0.8.13"), vllm=VersionOnly(version="0.6.4.post1"))
    )
    assert line.endswith("llamafile 0.8.13, vLLM 0.6.4.post1")
    assert _frontends_line(Frontends(vllm=VersionOnly())).endswith("vLLM")


def _generic_fields() -> list[attrs.Attribute[object]]:
    hints = typing.get_type_hints(Frontends)
    return [
        field for field in attrs.fields(Frontends)
        if field.name not in _OWN_TEXT
        and PythonEngine not in typing.get_args(hints[field.name])
    ]


@pytest.mark.parametrize("field", _generic_fields(), ids=lambda field: field.name)
def test_every_other_frontend_shows_by_its_name_and_version(
    field: attrs.Attribute[object],
) -> None:
    cls = typing.get_args(typing.get_type_hints(Frontends)[field.name])[0]
    line = _frontends_line(Frontends(**{field.name: cls(version="9.8.7")}))
    title = str(field.metadata["doc"]).split(" (")[0].rstrip(".")
    assert title and line.endswith(f"{title} 9.8.7")
