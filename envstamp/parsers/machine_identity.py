"""Which machine: a machine id's hash, the model from DMI names, macOS' IOPlatformUUID.

A machine id is never kept raw, only its sha256 (shareable manifests salt it again).
"""

from __future__ import annotations

import hashlib
import re

from envstamp.errors import ParseError
from envstamp.parsers.textutil import clean, collapse

# Values firmware vendors leave in DMI fields they did not fill in.
_PLACEHOLDERS = frozenset(
    {
        "to be filled by o.e.m.",
        "system product name",
        "system manufacturer",
        "default string",
        "o.e.m.",
        "oem",
        "not specified",
        "none",
        "type1productconfigid",
        "product name",
        "sku",
    }
)


def hash_machine_id(raw: str | None) -> str | None:
    """sha256 hex of a machine id; None for empty or systemd's "uninitialized"."""
    text = clean(raw)
    if text is None or text.lower() == "uninitialized":
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def dmi_value(value: str | None) -> str | None:
    text = clean((value or "").replace("\x00", ""))
    if text is None or text.lower() in _PLACEHOLDERS:
        return None
    return text


def machine_model(vendor: str | None, product: str | None, version: str | None) -> str | None:
    """ "Dell Inc. Precision 5570"; Lenovo's friendly name lives in product_version."""
    vendor, product, version = dmi_value(vendor), dmi_value(product), dmi_value(version)
    if vendor and vendor.upper() == "LENOVO" and version and not version.isdigit():
        product = f"{version} ({product})" if product else version
    if product is None:
        return None
    if vendor and not product.lower().startswith(vendor.split()[0].lower()):
        return collapse(f"{vendor} {product}")
    return product


def parse_ioreg_uuid(text: str) -> str:
    """IOPlatformUUID from ``ioreg -rd1 -c IOPlatformExpertDevice``."""
    match = re.search(r'"IOPlatformUUID"\s*=\s*"([^"]+)"', text)
    if match is None:
        raise ParseError("no IOPlatformUUID in ioreg output")
    return match.group(1)
