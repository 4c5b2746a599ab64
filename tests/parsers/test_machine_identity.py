"""Which machine: the machine id hashed, never raw; the model from DMI; IOPlatformUUID."""

from __future__ import annotations

import hashlib

import pytest

from envstamp.errors import ParseError
from envstamp.parsers.machine_identity import hash_machine_id, machine_model, parse_ioreg_uuid


def test_machine_id_is_hashed_never_raw() -> None:
    raw = "0123456789abcdef0123456789abcdef"
    hashed = hash_machine_id(raw + "\n")
    assert hashed == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (hashed or "")
    assert hash_machine_id("") is None
    assert hash_machine_id("uninitialized\n") is None


@pytest.mark.parametrize(
    ("vendor", "product", "version", "model"),
    [
        ("Dell Inc.", "Precision 5570", "", "Dell Inc. Precision 5570"),
        (
            "LENOVO",
            "21CBCTO1WW",
            "ThinkPad X1 Carbon Gen 10",
            "LENOVO ThinkPad X1 Carbon Gen 10 (21CBCTO1WW)",
        ),
        ("ASUS", "ASUS TUF Gaming A15", None, "ASUS TUF Gaming A15"),
        ("System manufacturer", "System Product Name", "System Version", None),
        ("To Be Filled By O.E.M.", "X570 Taichi", None, "X570 Taichi"),
        (None, None, None, None),
    ],
)
def test_machine_model_from_dmi(
    vendor: str | None, product: str | None, version: str | None, model: str | None
) -> None:
    assert machine_model(vendor, product, version) == model


def test_ioreg_uuid() -> None:
    text = '    {\n      "IOPlatformUUID" = "4C2A9E71-0B3D-5F86-A1C4-7E9D2B6F0A38"\n    }\n'
    assert parse_ioreg_uuid(text) == "4C2A9E71-0B3D-5F86-A1C4-7E9D2B6F0A38"
    with pytest.raises(ParseError):
        parse_ioreg_uuid("ioreg: no such class\n")
