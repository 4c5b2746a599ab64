"""manifest/redact as properties: whatever identifying value or secret a manifest carries, and in
whichever text field it sits, the shareable copy shows none of it, and keeps everything else.

Manifests are generated: a machine (hostname, user, GPU UUID and serial, MAC, token) whose
values are planted in the fields where real captures put paths, command lines and settings.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.manifest.model import (
    Gpu,
    GpuState,
    Host,
    LlamaCppBuild,
    Manifest,
    ModelFile,
    Ollama,
    PythonInfo,
    Volatile,
)
from envstamp.manifest.redact import redact, redact_text, replace_home
from envstamp.manifest.serialize import identity_digest, to_json, unstructure

_LOWER = "abcdefghijklmnopqrstuvwxyz"
# Names that are not words a manifest holds anyway (a hostname "linux" would be found in
# "Linux"): a letter, then letters and digits, with at least one digit.
def names(head: str) -> st.SearchStrategy[str]:
    return st.builds(
        lambda body, digit: head + body + digit,
        st.text(alphabet=_LOWER + "0123456789", min_size=3, max_size=8),
        st.sampled_from("0123456789"),
    )


hexes = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
tokens = st.text(alphabet=_LOWER + _LOWER.upper() + "0123456789", min_size=36, max_size=36)


@attrs.frozen
class Machine:
    hostname: str
    user: str
    uuid: str
    serial: str
    mac: str
    token: str


machines = st.builds(
    Machine,
    hostname=names("h"),  # distinct first letters: neither name is inside the other
    user=names("u"),
    uuid=hexes.map(lambda h: f"GPU-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"),
    serial=st.integers(10**12, 10**13 - 1).map(str),
    mac=st.lists(st.integers(0, 255), min_size=6, max_size=6).map(
        lambda b: ":".join(f"{x:02x}" for x in b)
    ),
    token=tokens.map(lambda t: "ghp_" + t),
)


def manifest_of(machine: Machine, home: str) -> Manifest:
    """A manifest whose text fields carry the machine's values where captures put them."""
    uuid = machine.uuid
    return Manifest(
        envstamp_version="0.3.0",
        captured_at="2026-12-06T08:00:00.000Z",
        host=Host(hostname=machine.hostname, machine_id="sha256:" + "ab" * 32, model="X670E"),
        gpus=[Gpu(index=0, vendor="nvidia", name="NVIDIA H200", uuid=uuid,
                  serial=machine.serial, memory_total_mib=143771, power_limit_w=700.0)],
        llamacpp=[LlamaCppBuild(
            path=f"{home}/src/llama.cpp/build/bin/llama-server",
            build_number=5308,
            build_flags={"CMAKE_INSTALL_PREFIX": f"{home}/.local", "GGML_CUDA": "ON"},
            source=f"--version of {machine.hostname}",
        )],
        models=[ModelFile(path=f"{home}/models/llama-3-8b.Q4_K_M.gguf", quantization="Q4_K_M")],
        python=PythonInfo(executable=f"{home}/.venv/bin/python", version="3.12.3"),
        env={
            "CUDA_VISIBLE_DEVICES": uuid,
            "OLLAMA_HOST": f"http://{machine.hostname}:11434",
            "HF_HOME": f"{home}/.cache/huggingface",
            "GITHUB_TOKEN": machine.token,
            "NCCL_SOCKET_IFNAME": f"eth0 {machine.mac}",
        },
        frontends=attrs.evolve(
            Manifest(envstamp_version="x", captured_at="x").frontends,
            ollama=Ollama(server_version="0.12.3", host=f"http://{machine.hostname}:11434",
                          settings={"OLLAMA_MODELS": f"{home}/.ollama/models",
                                    "OLLAMA_ORIGINS": f"https://x:{machine.token}@proxy.example"}),
        ),
        volatile=Volatile(gpus=[GpuState(index=0, uuid=uuid, temperature_c=36.0)]),
    )


HOMES = ["/home/{u}", "/Users/{u}", "C:\\Users\\{u}", "/var/home/{u}"]


def shared_text(manifest: Manifest) -> str:
    return to_json(redact(manifest))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machine=machines, home=st.sampled_from(HOMES))
def test_no_identifying_value_or_secret_survives(machine: Machine, home: str) -> None:
    text = shared_text(manifest_of(machine, home.format(u=machine.user)))
    lowered = text.lower()
    for value in (machine.hostname, machine.serial, machine.mac, machine.token,
                  machine.uuid[4:], "ab" * 32, f"/{machine.user}", f"\\{machine.user}"):
        assert value.lower() not in lowered, value
    assert "GITHUB_TOKEN" not in text  # a secret name is dropped whole, not just its value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machine=machines, home=st.sampled_from(HOMES))
def test_what_identifies_nothing_is_kept(machine: Machine, home: str) -> None:
    original = manifest_of(machine, home.format(u=machine.user))
    shown = redact(original)
    assert shown.gpus[0].name == "NVIDIA H200"
    assert (shown.gpus[0].memory_total_mib, shown.gpus[0].power_limit_w) == (143771, 700.0)
    assert shown.llamacpp[0].build_number == 5308
    assert shown.llamacpp[0].build_flags["GGML_CUDA"] == "ON"
    assert shown.models[0].quantization == "Q4_K_M"
    assert shown.models[0].path is not None
    assert shown.models[0].path.endswith("models/llama-3-8b.Q4_K_M.gguf")
    assert shown.models[0].path.startswith("~")
    assert (shown.host.model, shown.captured_at, shown.envstamp_version) == (
        "X670E", original.captured_at, original.envstamp_version)
    assert shown.volatile.gpus[0].temperature_c == 36.0
    assert shown.env["OLLAMA_HOST"].startswith("http://redacted:")
    assert shown.env["OLLAMA_HOST"].endswith(":11434")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machine=machines)
def test_the_same_value_hashes_alike_within_a_manifest_and_per_machine(machine: Machine) -> None:
    """The GPU's UUID field reads the same in gpus and volatile, so a reader can still follow
    the device; two captures of one machine (same machine id) show the same hashes, in fields
    and inside text alike."""
    manifest = manifest_of(machine, f"/home/{machine.user}")
    shown = redact(manifest)
    hashed = shown.gpus[0].uuid
    assert hashed is not None and hashed.startswith("redacted:")
    assert shown.volatile.gpus[0].uuid == hashed
    in_text = shown.env["CUDA_VISIBLE_DEVICES"]
    assert in_text.startswith("GPU-redacted:") and machine.uuid[4:] not in in_text
    again = redact(attrs.evolve(manifest, captured_at="2026-12-07T08:00:00.000Z"))
    assert again.gpus[0].uuid == hashed and again.host.hostname == shown.host.hostname
    assert again.env["CUDA_VISIBLE_DEVICES"] == in_text
    other = redact(attrs.evolve(manifest, host=attrs.evolve(manifest.host,
                                                           machine_id="sha256:" + "cd" * 32)))
    assert other.gpus[0].uuid != hashed  # another machine's salt


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machine=machines)
def test_structure_is_kept_and_the_digest_is_of_what_is_shown(machine: Machine) -> None:
    manifest = manifest_of(machine, f"/home/{machine.user}")
    shown = redact(manifest)
    before, after = unstructure(manifest), unstructure(shown)
    env = {key: value for key, value in before["env"].items() if key != "GITHUB_TOKEN"}
    assert shape({**after, "identity_digest": None}) == shape({**before, "env": env})
    assert shown.identity_digest == identity_digest(shown)
    assert shown.identity_digest != identity_digest(manifest)
    json.loads(to_json(shown))


def shape(value: Any) -> Any:
    """The keys and list lengths of a JSON value, leaves reduced to their types."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def test_a_manifest_without_machine_id_gets_a_random_salt_or_the_callers() -> None:
    manifest = Manifest(envstamp_version="0.3.0", captured_at="2026-12-06T08:00:00.000Z",
                        host=Host(hostname="render-node-7"))
    first, second = redact(manifest), redact(manifest)
    assert first.host.hostname != second.host.hostname  # nothing to salt with: unlinkable
    salted = redact(manifest, salt="team")
    assert salted.host.hostname == redact(manifest, salt="team").host.hostname
    assert salted.host.machine_id is None  # unknown stays null


@settings(max_examples=60, deadline=None)
@given(machine=machines, home=st.sampled_from(HOMES),
       tail=st.sampled_from(["", "/x.gguf", "\\bin\\llama.exe", " --port 8080"]))
def test_redact_text_is_idempotent(machine: Machine, home: str, tail: str) -> None:
    text = (f"{home.format(u=machine.user)}{tail} on {machine.hostname} "
            f"{machine.uuid} {machine.mac} token={machine.token}")
    once = redact_text(text, "salt", machine.hostname)
    assert redact_text(once, "salt", machine.hostname) == once
    assert f"{machine.user}/" not in once and f"{machine.user}\\" not in once
    assert machine.hostname not in once and machine.token not in once


@pytest.mark.parametrize(
    ("text", "home", "expected"),
    [
        ("/opt/me/cache", "/opt/me", "~/cache"),  # the caller's own home, wherever it is
        ("HF_HOME=/opt/me", "/opt/me/", "HF_HOME=~"),
        ("/opt/meter/x", "/opt/me", "/opt/meter/x"),  # a longer name is another folder
        ("/x", "/", "/x"),  # "/" as home would be everything: ignored
    ],
)
def test_replace_home_with_the_callers_home(text: str, home: str, expected: str) -> None:
    assert replace_home(text, home) == expected


def test_redacting_a_redacted_manifest_changes_nothing() -> None:
    machine = Machine(hostname="tensorbox7", user="alice1", serial="1650000000000",
                      uuid="GPU-5eed0000-0000-4000-8000-000000002000",
                      mac="00:1a:2b:3c:4d:5e", token="ghp_" + "a1" * 18)
    once = redact(manifest_of(machine, "/home/alice1"))
    assert to_json(redact(once)) == to_json(once)
