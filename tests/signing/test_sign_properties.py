"""Property tests: strict base64 has one spelling per byte string, signing round-trips any
JSON value, and verification raises nothing but envstamp's own errors on arbitrary input."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envstamp.errors import CheckFailed, EnvstampError
from envstamp.signing import dsse, sign, verify
from tests.sign_support import rfc_key

KEY = rfc_key(0)
TRUSTED = [KEY.public_key]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(st.binary(max_size=200))
def test_base64_round_trip_every_spelling(data: bytes) -> None:
    standard = base64.b64encode(data).decode()
    urlsafe = base64.urlsafe_b64encode(data).decode()
    for text in (standard, standard.rstrip("="), urlsafe, urlsafe.rstrip("=")):
        assert verify.b64decode_strict(text, "x") == data


@given(st.text(max_size=40))
def test_strict_base64_accepts_only_canonical_text(text: str) -> None:
    try:
        data = verify.b64decode_strict(text, "x")
    except CheckFailed:
        return
    canonical = {base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()}
    assert text in canonical | {c.rstrip("=") for c in canonical}


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_predicate_round_trips(value: Any) -> None:
    statement = dsse.make_statement([("x", "0" * 64)], "urn:x", {"v": value})
    verified = verify.verify_envelope(sign.sign_statement(statement, KEY), TRUSTED)
    assert _as_doubles(verified.statement) == _as_doubles(statement)


def _as_doubles(value: Any) -> Any:
    # RFC 8785 writes numbers as ECMAScript does (6.5e16 -> 65000000000000000), which Python
    # reads back as an int: equal as a JSON number (an IEEE double), not as a Python type.
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_doubles(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


@given(st.binary(max_size=300))
def test_verify_raises_only_envstamp_errors_on_bytes(data: bytes) -> None:
    with pytest.raises(EnvstampError):
        verify.verify_envelope(data, TRUSTED)


envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "payloadType": st.one_of(st.just(dsse.PAYLOAD_TYPE), json_values),
        "payload": st.one_of(st.just("e30="), st.text(max_size=12), json_values),
        "signatures": st.one_of(
            st.lists(
                st.fixed_dictionaries({}, optional={"keyid": json_values, "sig": json_values}),
                max_size=3,
            ),
            json_values,
        ),
    },
)


@settings(max_examples=100)
@given(envelope_like)
def test_verify_raises_only_envstamp_errors_on_envelope_shapes(envelope: dict[str, Any]) -> None:
    data = json.dumps(envelope).encode()
    for given_as in (data, envelope):
        with pytest.raises(EnvstampError):
            verify.verify_envelope(given_as, TRUSTED)
