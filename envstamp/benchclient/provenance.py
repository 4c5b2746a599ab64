"""What served a benchmark, as manifest sections.  Pure.

The server's own answers say which frontend and version ran, which engine build, which model
and where it sat; they become entries of the manifest the results are stamped with, in the
places a capture would have put them, so that ``diff`` ranks them like any other change:

* llama-server (``/props``): a ``llamacpp`` build (build number and commit from
  ``build_info``, ``source`` naming the server's /props) and the model's path; when the
  server is local, the capture fingerprints that file (sha256, GGUF header) into ``models``;
* Ollama: ``frontends.ollama`` (server version from ``/api/version``, the host, the loaded
  models with ``size`` against ``size_vram`` from ``/api/ps`` - the GPU/CPU split) and the
  model from ``/api/show`` and ``/api/tags`` (its digest, and the sha256 of its GGUF blob);
* LM Studio: the loaded model (``/api/v0/models``) and the runtime an answer names;
* vLLM, koboldcpp: the version their API states.

What a server would not say is recorded as notes (the ``bench_server`` probe record's
detail), never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from envstamp.benchclient.detect import Probed
from envstamp.errors import ParseError
from envstamp.manifest.model import (
    KoboldCpp,
    LlamaCppBuild,
    LmStudio,
    Manifest,
    ModelFile,
    NamedVersion,
    Ollama,
    ProbeRecord,
    ProbeStatus,
    VersionOnly,
)


@attrs.define
class Provenance:
    """What the server said about itself."""

    url: str
    server: str | None = None
    version: str | None = None
    model: str | None = None
    """The model the requests named (or the server's only one)."""
    build: LlamaCppBuild | None = None
    model_path: str | None = None
    """The model file a local llama-server loaded: the capture fingerprints it."""
    ollama: Ollama | None = None
    lmstudio: LmStudio | None = None
    models: list[ModelFile] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)

    @property
    def status(self) -> ProbeStatus:
        """ok when the server said who it is; error when it did not."""
        return "ok" if self.server else "error"


def from_props(prov: Provenance, props: Probed | None) -> None:
    """llama-server's ``/props``: its build and model file."""
    from envstamp.parsers.llama_server import parse_props

    data = props.json() if props is not None else None
    if not isinstance(data, dict):
        prov.notes.append("/props did not answer JSON: no build or model recorded")
        return
    try:
        parsed = parse_props(data)
    except ParseError as exc:
        prov.notes.append(f"/props: {exc}")
        return
    if parsed.build_number is not None or parsed.commit is not None:
        prov.build = LlamaCppBuild(
            build_number=parsed.build_number,
            commit=parsed.commit,
            source=f"{prov.server or 'llama-server'} /props ({parsed.build_info})",
        )
    else:
        prov.notes.append("/props names no build")
    prov.model_path = parsed.model_path
    prov.model = prov.model or parsed.model_alias or parsed.model_path


def from_ollama(
    prov: Provenance,
    *,
    ps: Probed | None,
    show: Probed | None,
    tags: Probed | None,
) -> None:
    """Ollama's version, loaded models (size against size_vram) and the model's digest."""
    from envstamp.parsers.ollama import (
        full_model_name,
        model_from_api,
        parse_api_tags,
        parse_ollama_api_ps,
    )

    ollama = Ollama(server_version=prov.version, host=prov.url)
    if ps is not None and ps.json() is not None:
        try:
            ollama.loaded_models = parse_ollama_api_ps(ps.body)
        except ParseError as exc:
            prov.notes.append(f"/api/ps: {exc}")
    else:
        prov.notes.append("/api/ps did not answer: the GPU/CPU split is unknown")
    prov.ollama = ollama
    if not prov.model:
        return
    listed: dict[str, Any] | None = None
    if tags is not None and tags.json() is not None:
        try:
            listed = parse_api_tags(tags.body).get(full_model_name(prov.model))
        except ParseError as exc:
            prov.notes.append(f"/api/tags: {exc}")
    shown = show.json() if show is not None else None
    if not isinstance(shown, dict):
        prov.notes.append(f"/api/show did not describe {prov.model}")
        shown = None
    if shown is not None or listed is not None:
        prov.models.append(model_from_api(prov.model, shown, listed))


def from_lmstudio(prov: Provenance, models: Probed | None, extra: Mapping[str, Any]) -> None:
    """LM Studio's loaded models and, from an answer's ``runtime``, its engine."""
    from envstamp.parsers.lmstudio import parse_api_models

    studio = LmStudio()
    if models is not None and models.json() is not None:
        try:
            _, studio.loaded_models = parse_api_models(models.body)
        except ParseError as exc:
            prov.notes.append(f"/api/v0/models: {exc}")
    runtime = extra.get("runtime")
    if isinstance(runtime, Mapping) and isinstance(runtime.get("name"), str):
        version = runtime.get("version")
        named = NamedVersion(
            name=runtime["name"], version=version if isinstance(version, str) else None
        )
        studio.selected_runtimes = [named]
    prov.lmstudio = studio


# ------------------------------------------------------------------------ into the manifest


def apply(manifest: Manifest, prov: Provenance) -> Manifest:
    """``manifest`` with what the server said: its build, frontend section and model, and a
    ``bench_server`` probe record saying what was asked and what was not answered."""
    frontends = manifest.frontends
    if prov.server == "ollama" and prov.ollama is not None:
        frontends = attrs.evolve(frontends, ollama=_merged_ollama(frontends.ollama, prov.ollama))
    elif prov.server == "lmstudio" and prov.lmstudio is not None:
        frontends = attrs.evolve(frontends, lmstudio=_merged_lmstudio(frontends.lmstudio, prov))
    elif prov.server == "vllm" and prov.version:
        frontends = attrs.evolve(frontends, vllm=VersionOnly(version=prov.version))
    elif prov.server == "koboldcpp" and prov.version:
        kobold = frontends.koboldcpp or KoboldCpp()
        frontends = attrs.evolve(frontends, koboldcpp=attrs.evolve(kobold, version=prov.version))
    builds = list(manifest.llamacpp)
    if prov.build is not None:
        builds.append(prov.build)
    known = {m.digest for m in manifest.models if m.digest} | {
        m.sha256 for m in manifest.models if m.sha256
    }
    models = list(manifest.models) + [
        m for m in prov.models if not ({m.digest, m.sha256} & known - {None})
    ]
    record = ProbeRecord(
        name="bench_server",
        status=prov.status,
        source=prov.url,
        detail=_detail(prov),
    )
    probes = [p for p in manifest.probes if p.name != "bench_server"] + [record]
    return attrs.evolve(
        manifest, frontends=frontends, llamacpp=builds, models=models, probes=probes
    )


def _detail(prov: Provenance) -> str:
    said = f"{prov.server or 'unknown server'}"
    if prov.version:
        said += f" {prov.version}"
    if prov.model:
        said += f", model {prov.model}"
    return "; ".join([said, *prov.notes])


def _merged_ollama(found: Ollama | None, asked: Ollama) -> Ollama:
    if found is None:
        return asked
    return attrs.evolve(
        found,
        server_version=asked.server_version or found.server_version,
        host=asked.host or found.host,
        loaded_models=asked.loaded_models or found.loaded_models,
    )


def _merged_lmstudio(found: LmStudio | None, prov: Provenance) -> LmStudio:
    asked = prov.lmstudio or LmStudio()
    if found is None:
        return asked
    return attrs.evolve(
        found,
        loaded_models=asked.loaded_models or found.loaded_models,
        selected_runtimes=asked.selected_runtimes or found.selected_runtimes,
    )

