"""Helpers shared by the signing and key tests: fixed keys, a sample manifest, envelopes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from envstamp.manifest.model import Cpu, Gpu, Host, Manifest, OperatingSystem
from envstamp.manifest.serialize import with_digest
from envstamp.signing.keys import PublicKey, SigningKey

# RFC 8032 section 7.1, tests 1-3: (secret seed, public key, message, signature), all hex.
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
        "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
        "458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290"
        "ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


def rfc_key(index: int) -> SigningKey:
    """The RFC 8032 test key ``index`` (0-2) as an envstamp signing key."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    seed = bytes.fromhex(RFC8032[index][0])
    return SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(seed), source="rfc8032")


def p256_key() -> SigningKey:
    return SigningKey.generate("ecdsa-p256")


def sample_manifest() -> Manifest:
    """A small but realistic manifest (an Arch laptop with a mobile RTX card)."""
    return with_digest(
        Manifest(
            envstamp_version="0.1.0",
            captured_at="2026-03-14T09:26:53.589Z",
            host=Host(hostname="fern", model="Framework Laptop 16"),
            os=OperatingSystem(system="Linux", kernel="6.8.9-arch1-2", arch="x86_64"),
            cpu=Cpu(
                vendor="AuthenticAMD",
                model_name="AMD Ryzen 7 7840HS w/ Radeon 780M Graphics",
                logical_cpus=16,
                isa=["avx", "avx2", "avx512f", "fma"],
            ),
            gpus=[
                Gpu(
                    index=0,
                    vendor="nvidia",
                    name="NVIDIA GeForce RTX 4060 Laptop GPU",
                    memory_total_mib=8188,
                    driver_version="550.78",
                    power_limit_w=80.5,
                )
            ],
            env={"CUDA_VISIBLE_DEVICES": "0", "GGML_CUDA_FORCE_MMQ": "1"},
        )
    )


def envelope_bytes(envelope: dict[str, Any], *, indent: int | None = 2) -> bytes:
    return json.dumps(envelope, indent=indent).encode("utf-8")


def write_public(key: SigningKey | PublicKey, path: Path) -> Path:
    public = key.public_key if isinstance(key, SigningKey) else key
    path.write_text(public.pem())
    return path


def payload_of(envelope: dict[str, Any]) -> bytes:
    return base64.b64decode(envelope["payload"])


def with_payload(envelope: dict[str, Any], payload: bytes) -> dict[str, Any]:
    return {**envelope, "payload": base64.b64encode(payload).decode("ascii")}


def sig_of(envelope: dict[str, Any], index: int = 0) -> bytes:
    return base64.b64decode(envelope["signatures"][index]["sig"])


def with_sig(envelope: dict[str, Any], sig: bytes, index: int = 0) -> dict[str, Any]:
    signatures = [dict(s) for s in envelope["signatures"]]
    signatures[index]["sig"] = base64.b64encode(sig).decode("ascii")
    return {**envelope, "signatures": signatures}


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    changed = bytearray(data)
    changed[index] ^= mask
    return bytes(changed)
