"""The one cattrs converter, JSON in and out, canonical bytes and the identity digest.

Loading goes through the converter (strict types, clear errors).  Writing does not need it:
the model holds only JSON-native values (str, int, float, bool, None, lists, dicts of them,
nested attrs classes), for which ``attrs.asdict`` gives exactly what the converter's
unstructure gives (a test holds them equal on generated manifests) - and a capture then never
pays cattrs' import (~20 ms), which dominates a second-scale budget.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from envstamp.errors import InputError
from envstamp.manifest.model import SCHEMA_MAJOR, SCHEMA_NAME, Manifest

T = TypeVar("T")

_SCHEMA_RE = re.compile(r"^(?P<name>[a-z][a-z0-9_.-]*)/(?P<major>\d+)(?:\.\d+)*$")

# Safe integer range of IEEE doubles: bigger integers do not survive every JSON reader.
MAX_SAFE_INT = 2**53 - 1


if TYPE_CHECKING:
    import cattrs


def _strict_scalar(kind: type) -> Any:
    """A structure hook that accepts only values already of the right JSON type."""

    def hook(value: Any, _type: Any) -> Any:
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if kind is int and type(value) is float and (whole := whole_number(value)) is not None:
            return whole  # 2.0 is 2, as JSON Schema and RFC 8785 read it
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {kind.__name__}, got a boolean")
        if not isinstance(value, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return hook


def _json_scalar(value: Any, _type: Any) -> Any:
    """Structure hook of ``str | int | float | bool | None`` (free-form columns): as is."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"expected a string, number, boolean or null, got {type(value).__name__}")


def _bool_or_word(value: Any, _type: Any) -> Any:
    """Structure hook of ``bool | str | None``: a switch that may also be a word ("auto")."""
    if value is None or isinstance(value, (bool, str)):
        return value
    raise TypeError(f"expected a boolean, a string or null, got {type(value).__name__}")


def _make_converter() -> cattrs.Converter:
    import cattrs

    conv = cattrs.Converter(forbid_extra_keys=False, omit_if_default=False)
    for kind in (str, int, float, bool):
        conv.register_structure_hook(kind, _strict_scalar(kind))
    conv.register_structure_hook(str | int | float | bool | None, _json_scalar)
    conv.register_structure_hook(bool | str | None, _bool_or_word)
    return conv


_CONVERTER: list[cattrs.Converter] = []


def converter() -> cattrs.Converter:
    """The only converter envstamp uses (never cattrs' global one), made on first use."""
    if not _CONVERTER:
        _CONVERTER.append(_make_converter())
    return _CONVERTER[0]


def unstructure(obj: Any) -> Any:
    """attrs object (or a list of them) -> plain JSON-able data, as the converter would."""
    if attrs.has(type(obj)):
        return attrs.asdict(obj)
    if isinstance(obj, (list, tuple)):
        return [unstructure(item) for item in obj]
    if isinstance(obj, dict):
        return {key: unstructure(value) for key, value in obj.items()}
    return obj


def structure(data: Any, cls: type[T], *, what: str = "document") -> T:
    """Plain data -> attrs object, with a one-line error naming the offending path."""
    import cattrs

    try:
        return converter().structure(data, cls)
    except InputError as exc:  # a class's own check (a result's negative time...)
        raise InputError(f"{what} is not valid: {exc}") from None
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        raise InputError(f"{what} is not valid: {_first_error(exc)}") from None


def _first_error(exc: BaseException) -> str:
    import cattrs

    own = _own_error(exc)
    if own is not None:
        return str(own)  # already one line for a person; cattrs would call it "unknown"
    if isinstance(exc, cattrs.BaseValidationError):
        messages = cattrs.transform_error(exc, path="$")
        return messages[0] if messages else str(exc)
    return str(exc) or type(exc).__name__


def _own_error(exc: BaseException) -> InputError | None:
    """The first InputError inside a cattrs error group (a class's own check), if any."""
    if isinstance(exc, InputError):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _own_error(inner)
        if found is not None:
            return found
    return None


# ------------------------------------------------------------------------------- JSON text


def to_json(obj: Any, *, indent: int | None = 2) -> str:
    """Pretty (or compact) JSON text of an attrs object or plain data."""
    data = unstructure(obj) if attrs.has(type(obj)) else obj
    return json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False) + (
        "\n" if indent else ""
    )


def canonical_bytes(data: Any) -> bytes:
    """RFC 8785 canonical JSON of plain data or an attrs object.

    Refuses what JSON cannot carry exactly: NaN, infinities, integers beyond 2**53.
    """
    plain = unstructure(data) if attrs.has(type(data)) else data
    spelled_alike = _as_stdlib_canonical(plain)
    if spelled_alike is not _GENERAL:
        # The C encoder writes what RFC 8785 writes for such data (a hypothesis test holds
        # the two equal), about ten times faster than rfc8785's pure-Python walk.
        text = json.dumps(spelled_alike, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate: rfc8785 says why
            return text.encode("utf-8")
    _check_exact(plain, "$")
    import rfc8785  # the general case: non-ASCII keys, exponent-form floats

    try:
        return rfc8785.dumps(plain)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(f"cannot canonicalise: {exc}") from None


_GENERAL: Any = object()  # "leave this value to rfc8785"

# Non-integral floats whose repr() is also RFC 8785's spelling: fixed notation (repr switches
# to an exponent below 1e-4 and from 1e16; RFC 8785 only below 1e-6 and from 1e21).
_FIXED_LOW, _FIXED_HIGH = 1e-4, 1e16


def _as_stdlib_canonical(value: Any) -> Any:
    """``value`` in a form that ``json.dumps`` (sorted keys, compact) spells as RFC 8785 does,
    or ``_GENERAL``.  Integral floats become ints (repr writes ``2.0``, RFC 8785 ``2``); keys
    must be ASCII, which sorts alike by code point (Python) and by UTF-16 unit (RFC 8785).
    Containers are copied only when something inside them changed."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        return value if -MAX_SAFE_INT <= value <= MAX_SAFE_INT else _GENERAL
    if kind is float:
        magnitude = abs(value)
        if magnitude.is_integer():  # exact below 2**53, where RFC 8785 writes every digit
            return int(value) if magnitude <= MAX_SAFE_INT else _GENERAL
        return value if _FIXED_LOW <= magnitude < _FIXED_HIGH else _GENERAL
    if kind is dict:
        changed: dict[str, Any] | None = None
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return _GENERAL
            spelled = _as_stdlib_canonical(item)
            if spelled is not item:
                if spelled is _GENERAL:
                    return _GENERAL
                changed = changed if changed is not None else dict(value)
                changed[key] = spelled
        return value if changed is None else changed
    if kind is list:
        spelled_items = [_as_stdlib_canonical(item) for item in value]
        if any(spelled is _GENERAL for spelled in spelled_items):
            return _GENERAL
        unchanged = all(a is b for a, b in zip(spelled_items, value, strict=True))
        return value if unchanged else spelled_items
    return _GENERAL


def _check_exact(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{path} is {value}, which JSON cannot represent")
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise InputError(f"{path} = {value} is beyond 2**53 and would lose precision")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_exact(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_exact(item, f"{path}[{i}]")
        return
    raise InputError(f"{path} has type {type(value).__name__}, which is not JSON")


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------- loading


class StrictJSONError(ValueError):
    """Valid JSON syntax that envstamp refuses: a duplicate key, NaN or an infinity."""


def _reject_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # C speed; only a collision needs the slow look for its name
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise StrictJSONError(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _finite_float(text: str) -> float:
    # json reads 1e999 as inf, past the NaN/Infinity check: refuse it here.
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError(f"the number {text} is out of range")
    return value


_STRICT_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, object_pairs_hook=_no_duplicates, parse_float=_finite_float
)


_TOO_MANY_DIGITS = re.compile(r"integer string conversion: value has (\d+) digits")


def strict_loads(text: str) -> Any:
    """json.loads refusing duplicate keys, NaN, infinities and numbers beyond a double (raises
    ValueError: StrictJSONError for those, JSONDecodeError for bad syntax)."""
    try:
        return _STRICT_DECODER.decode(text)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        # Python refuses to read an integer of more than 4300 digits, with advice about
        # sys.set_int_max_str_digits that means nothing to a user: no field is that big.
        found = _TOO_MANY_DIGITS.search(str(exc))
        if found is None:
            raise
        raise StrictJSONError(f"a number with {found[1]} digits is out of range") from None


def parse_json_strict(text: str | bytes, *, what: str = "input") -> Any:
    """Parse JSON, refusing NaN/Infinity and duplicate keys, with a one-line error."""
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        return strict_loads(decoded)
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{what} is not valid JSON: {exc}") from None


def check_schema(schema: Any, *, expected: str = SCHEMA_NAME, major: int = SCHEMA_MAJOR) -> None:
    """Refuse documents of another kind or a newer major schema, naming both versions."""
    if not isinstance(schema, str):
        raise InputError(f"not an envstamp document: no {expected!r} schema field")
    match = _SCHEMA_RE.match(schema)
    if not match or match["name"] != expected:
        raise InputError(f"not an envstamp manifest: schema is {schema!r}")
    found = int(match["major"])
    if found > major:
        raise InputError(
            f"{schema} is a newer major schema than this envstamp reads ({expected}/{major}); "
            "upgrade envstamp to read it"
        )
    if found < 1:
        raise InputError(f"unknown manifest schema {schema!r}")


def manifest_from_data(data: Any, *, what: str = "manifest") -> Manifest:
    """A Manifest from parsed JSON: schema checked first, then every field's type and range
    (:func:`check_fields`), then structure.

    Every manifest (plain, in an envelope, in a results log) is loaded here.  A manifest that
    fits the model exactly is built by :func:`exact_structure`; anything else - a value of
    the wrong type, a missing field, a negative exit code - takes the checks and the
    converter, which accept it or say why not.
    """
    if not isinstance(data, dict):
        raise InputError(f"{what} is not a JSON object")
    check_schema(data.get("schema"))
    exact = exact_structure(data, Manifest)
    if exact is not None:
        return exact
    check_fields(data, Manifest, what=what)
    return structure(data, Manifest, what=what)


# ------------------------------------------------------------- exact structure, no cattrs


class _Declined(Exception):  # noqa: N818 - control flow, never seen by users
    """The value is not in the exact happy case; the checks and the converter decide."""


def exact_structure(data: Any, cls: type[T]) -> T | None:
    """What :func:`check_fields` + :func:`structure` build from ``data``, built from the
    model's fields directly - or None where ``data`` is not exactly what the model holds.

    The one speed measure of loading (docs/decisions.md, "Writing JSON without cattrs"):
    importing cattrs and generating its structure code costs ``envstamp diff A B`` about
    40 ms.  It accepts only values both would accept and builds what the converter builds
    (a test holds them equal); it never explains a refusal - the converter's path does.
    """
    try:
        return _exact_object(cls, data)  # type: ignore[no-any-return]
    except (_Declined, TypeError, ValueError, OverflowError, InputError):
        # A declined value, or a class's own check refusing it (the converter reports it).
        return None


def _exact_object(cls: Any, data: Any) -> Any:
    if not isinstance(data, dict):
        raise _Declined
    converters, required = exact_plan(cls)
    values = {}
    for name, item in data.items():
        convert = converters.get(name)
        if convert is not None:  # members the model does not know are left alone
            values[name] = convert(item)
    for name in required:
        if name not in values:
            raise _Declined  # a required field is missing
    return cls(**values)


_Convert = Callable[[Any], Any]
_ExactPlan = tuple[dict[str, _Convert], frozenset[str]]

# Class -> its exact plan: each field's converter and the names of the required fields,
# derived from the type hints once per class instead of once per value (issue 14: half of
# loading 100,000 results went into typing.get_origin/get_args).  Emptied by
# envstamp.runner.reset() (registered in runner/caches.py: this layer cannot import it).
_EXACT_PLANS: dict[type, _ExactPlan] = {}


def exact_plan(cls: type) -> _ExactPlan:
    """``cls``'s fields as the exact path reads them: name -> converter (one JSON value to
    the field's value, raising _Declined where the checks and the converter must decide),
    and the required names.  Made on first use, kept in ``_EXACT_PLANS``."""
    plan = _EXACT_PLANS.get(cls)
    if plan is None:
        fields = _model_fields(cls)
        converters = {name: _converter(info[0]) for name, info in fields.items()}
        required = frozenset(name for name, info in fields.items() if info[2])
        plan = _EXACT_PLANS[cls] = (converters, required)
    return plan


def forget_exact_plans() -> None:
    """Empty the plans (for envstamp.runner.reset())."""
    _EXACT_PLANS.clear()


def _converter(tp: Any) -> _Convert:
    """The converter of one field type: one JSON value as ``tp``, exactly as the checks and
    the converter take it (what the type accepts is decided here, once per field)."""
    simple = _SIMPLE_CONVERTERS.get(tp)
    if simple is not None:
        return simple
    origin = typing.get_origin(tp)
    if origin is types.UnionType or origin is typing.Union:
        return _union_converter(typing.get_args(tp))
    if origin is list:
        (inner,) = typing.get_args(tp)
        return _list_converter(_converter(inner))
    if origin is dict:
        key_type, inner = typing.get_args(tp)
        if key_type is not str:
            return _decline  # JSON keys are strings: the converter's business
        return _dict_converter(_converter(inner))
    if origin is typing.Literal:
        return _literal_converter(typing.get_args(tp))
    if attrs.has(tp):
        return functools.partial(_exact_object, tp)  # looked up when used: classes may nest
    return _decline


def _exact_str(item: Any) -> Any:
    if type(item) is not str:
        raise _Declined
    return item


def _exact_bool(item: Any) -> Any:
    if type(item) is not bool:
        raise _Declined
    return item


def _exact_count(item: Any) -> Any:
    whole = whole_number(item)
    if whole is None or whole < 0:
        raise _Declined  # counts and sizes (a signed field's negative: the converter)
    return whole


def _exact_float(item: Any) -> Any:
    if type(item) is int or (type(item) is float and math.isfinite(item)):
        return float(item)  # OverflowError for an int beyond a double: declined
    raise _Declined


def _as_is(item: Any) -> Any:
    return item


def _decline(_item: Any) -> Any:
    raise _Declined


_SIMPLE_CONVERTERS: dict[Any, _Convert] = {
    str: _exact_str,
    bool: _exact_bool,
    int: _exact_count,
    float: _exact_float,
    Any: _as_is,
}


def _union_converter(args: tuple[Any, ...]) -> _Convert:
    options = [arg for arg in args if arg is not type(None)]
    nullable = len(options) < len(args)
    # Several types could fit: the converter's business (null alone is still exact).
    inner = _converter(options[0]) if len(options) == 1 else _decline
    if not nullable:
        return inner

    def nullable_value(item: Any) -> Any:
        return None if item is None else inner(item)

    return nullable_value


def _list_converter(inner: _Convert) -> _Convert:
    def exact_list(item: Any) -> Any:
        if type(item) is not list:
            raise _Declined
        return list(item) if inner is _as_is else [inner(x) for x in item]

    return exact_list


def _dict_converter(inner: _Convert) -> _Convert:
    def exact_dict(item: Any) -> Any:
        if type(item) is not dict:
            raise _Declined
        return dict(item) if inner is _as_is else {key: inner(x) for key, x in item.items()}

    return exact_dict


def _literal_converter(choices: tuple[Any, ...]) -> _Convert:
    def exact_literal(item: Any) -> Any:
        if type(item) is not str or item not in choices:
            raise _Declined
        return item

    return exact_literal


def check_fields(data: Any, cls: type, *, what: str = "document") -> None:
    """Refuse, with one line naming the path, a value that does not fit its field.

    Types are exact (a string is not a list of GPUs, a list is not a CPU section, a boolean
    is not a number); whole numbers are counts, sizes, clocks and indexes, so they must lie
    in 0..2**53-1; other numbers must be finite.  Unknown members are left alone (a newer
    minor release may add them); missing required ones are the converter's to report.
    """
    problem = _misfit(data, cls, "$")
    if problem is not None:
        raise InputError(f"{what} is not valid: {problem}")


def _misfit(value: Any, tp: Any, path: str) -> str | None:
    """Why ``value`` does not fit ``tp`` (a message naming ``path``), or None when it does."""
    if tp is Any or tp is object:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        misfits = [_misfit(value, option, path) for option in options if option is not type(None)]
        if len(misfits) == 1 or None in misfits:
            return misfits[0] if len(misfits) == 1 else None
        return f"{path} must be {_expected(tp)}, got {_described(value)}"
    if origin is typing.Literal:
        choices = typing.get_args(tp)
        if isinstance(value, str) and value in choices:
            return None
        return f"{path} must be one of {', '.join(map(repr, choices))}, got {_described(value)}"
    if origin is list:
        if not isinstance(value, list):
            return f"{path} must be a list, got {_described(value)}"
        (inner,) = typing.get_args(tp)
        return _first(_misfit(item, inner, f"{path}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            return f"{path} must be an object, got {_described(value)}"
        inner = typing.get_args(tp)[1]
        return _first(_misfit(item, inner, f"{path}.{key}") for key, item in value.items())
    if attrs.has(tp):
        if not isinstance(value, dict):
            return f"{path} must be an object, got {_described(value)}"
        fields = _model_fields(tp)
        signed = _signed_fields(tp)
        return _first(
            _misfit(item, _SignedInt if key in signed else fields[key][0], f"{path}.{key}")
            for key, item in value.items()
            if key in fields
        )
    return _scalar_misfit(value, tp, path)


class _SignedInt:
    """A whole number that may be negative (an exit code: -4 is Python's SIGILL)."""


@functools.cache
def _signed_fields(cls: type) -> frozenset[str]:
    """Fields of ``int | None`` that may hold negative numbers (metadata ``signed``)."""
    return frozenset(a.name for a in attrs.fields(cls) if a.metadata.get("signed"))


def _scalar_misfit(value: Any, tp: Any, path: str) -> str | None:
    if tp is str or tp is bool:
        ok = type(value) is tp
    elif tp is int:
        whole = _whole_of_any_size(value)
        if whole is not None and not 0 <= whole <= MAX_SAFE_INT:
            return f"{path} is {_number_text(value)}: a count or size must be from 0 to 2**53-1"
        ok = whole is not None
    elif tp is _SignedInt:
        if value is None:
            return None
        whole = _whole_of_any_size(value)
        if whole is not None and abs(whole) > MAX_SAFE_INT:
            return f"{path} is {_number_text(value)}: beyond what JSON readers keep exactly"
        ok = whole is not None
        tp = int
    elif tp is float:
        ok = type(value) in (int, float) and _finite(value)
    elif tp is type(None):
        ok = value is None
    else:
        return None  # a type the model does not use in files
    return None if ok else f"{path} must be {_expected(tp)}, got {_described(value)}"


def whole_number(value: Any) -> int | None:
    """A JSON whole number within +-(2**53-1) as an int, else None.  An integral float (2.0,
    1e3) counts: JSON Schema's "integer" admits it and RFC 8785 writes it as the int (so the
    digest is alike), hence the loader reads it as one too (docs/decisions.md)."""
    whole = _whole_of_any_size(value)
    return whole if whole is not None and abs(whole) <= MAX_SAFE_INT else None


def _whole_of_any_size(value: Any) -> int | None:
    """An int (never a bool) as is, an integral float as its int; else None."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():  # NaN and infinities are not
        return int(value)
    return None


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any double
        return False


def _number_text(value: float) -> str:
    """A number as a message shows it: a whole number of many digits by its size only."""
    text = repr(value)
    if len(text) > 24:
        return f"a {len(text.lstrip('-'))}-digit number"
    return text


def _first(problems: Any) -> str | None:
    return next((p for p in problems if p is not None), None)


_EXPECTED = {str: "a string", bool: "true or false", int: "a whole number", float: "a number"}


def _expected(tp: Any) -> str:
    if tp in _EXPECTED:
        return _EXPECTED[tp]
    if attrs.has(tp):
        return "an object"
    origin = typing.get_origin(tp)
    if origin is list:
        return "a list"
    if origin is dict:
        return "an object"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(
            "null" if arg is type(None) else _expected(arg) for arg in typing.get_args(tp)
        )
    return str(tp)


def _described(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {_number_text(value)}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def manifest_from_json(text: str | bytes, *, what: str = "manifest") -> Manifest:
    """A Manifest from JSON text."""
    return manifest_from_data(parse_json_strict(text, what=what), what=what)


# ---------------------------------------------------------------------------------- digest


def identity_data(manifest: Manifest) -> dict[str, Any]:
    """The part of a manifest that identifies the machine and its configuration."""
    return _strip_volatile(manifest)  # type: ignore[no-any-return]


def _strip_volatile(obj: Any) -> Any:
    if attrs.has(type(obj)):
        return {
            a.name: _strip_volatile(getattr(obj, a.name))
            for a in attrs.fields(type(obj))
            if not a.metadata.get("volatile", False)
        }
    if isinstance(obj, list):
        return [_strip_volatile(item) for item in obj]
    if isinstance(obj, dict):
        return {key: _strip_volatile(value) for key, value in obj.items()}
    return obj


def identity_digest(manifest: Manifest) -> str:
    """``sha256:`` of the canonical identity part; stable across captures of one machine."""
    return sha256_digest(canonical_bytes(identity_data(manifest)))


def with_digest(manifest: Manifest) -> Manifest:
    """The manifest with its identity digest filled in."""
    return attrs.evolve(manifest, identity_digest=identity_digest(manifest))


def checked_identity(manifest: Manifest, data: Any = None) -> tuple[Manifest, str | None]:
    """The manifest with a trustworthy identity digest, and why the stored one was wrong.

    A loaded manifest's ``identity_digest`` is only a claim: a hand-edited file keeps its old
    one, and two files would then show equal digests beside a difference.  The digest is
    recomputed from what the file holds - ``data``, its parsed JSON or its bytes, when given:
    that is what the writer hashed, fields this envstamp does not know included, so manifests
    of older and newer releases check too.  The second value is None when the stored digest
    matches (or there is none: nothing was claimed); otherwise it says the manifest was
    edited after capture, and the manifest carries the recomputed digest.
    """
    stored = manifest.identity_digest
    if stored is None:
        return manifest, None
    if isinstance(data, bytes):
        try:
            data = strict_loads(data.decode("utf-8"))
        except (ValueError, RecursionError):
            data = None
    if isinstance(data, dict):
        computed = sha256_digest(canonical_bytes(_identity_of_data(data, Manifest)))
    else:
        computed = identity_digest(manifest)
    if stored == computed:
        return manifest, None
    reason = (
        f"edited after capture: its identity_digest {str(stored)[:19]}... does not match "
        f"its contents ({computed[:19]}...)"
    )
    return attrs.evolve(manifest, identity_digest=computed), reason


def _identity_of_data(value: Any, tp: Any) -> Any:
    """What :func:`identity_data` keeps, from parsed JSON: fields the model marks volatile
    are left out; every other member, known or not, stays as written."""
    cls = _attrs_class(tp)
    if isinstance(value, dict):
        if cls is None:
            return value
        fields = _model_fields(cls)
        kept: dict[str, Any] = {}
        for key, item in value.items():
            known = fields.get(key)
            if known is None:
                kept[key] = item
            elif not known[1]:
                kept[key] = _identity_of_data(item, known[0])
        return kept
    if isinstance(value, list):
        inner = _list_item(tp)
        return [_identity_of_data(item, inner) for item in value]
    return value


@functools.cache
def _model_fields(cls: type) -> dict[str, tuple[Any, bool, bool]]:
    """name -> (type, volatile, required) of an attrs class's fields, types resolved."""
    hints = typing.get_type_hints(cls)
    return {
        a.name: (hints[a.name], bool(a.metadata.get("volatile")), a.default is attrs.NOTHING)
        for a in attrs.fields(cls)
    }


def _attrs_class(tp: Any) -> type | None:
    """The attrs class ``tp`` is, or is optionally (``X | None``); None otherwise."""
    if attrs.has(tp):
        return tp
    options = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    return options[0] if len(options) == 1 and attrs.has(options[0]) else None


def _list_item(tp: Any) -> Any:
    """The item type of ``list[X]`` (or ``list[X] | None``), else None."""
    for candidate in (tp, *typing.get_args(tp)):
        if typing.get_origin(candidate) is list:
            return typing.get_args(candidate)[0]
    return None
