"""Text helpers the frontends' parsers share (Ollama, LM Studio, Jan, koboldcpp, llamafile,
vLLM): lines, versions as tools print them, tables with aligned columns, strict JSON, and the
``{"frontends": ...}`` fragment a frontend kind yields."""

from __future__ import annotations

import re
from typing import Any

from envstamp.errors import InputError, ParseError
from envstamp.manifest.model import Frontends, Sections

# A version as tools print it: 0.1.38, 1.75.2, 0.6.3.post1, 0.5.0-rc1, 2.4.1+cu124.
VERSION = r"\d+(?:\.\d+)+(?:[-+._]?[A-Za-z][\w.+-]*)?"
_VERSION_RE = re.compile(rf"^v?({VERSION})$")
_GAP = re.compile(r"\S+(?: \S+)*")  # cells: runs of text separated by 2+ spaces


def frontends(**values: Any) -> Sections:
    """The ``{"frontends": Frontends(...)}`` fragment a frontend kind or probe yields."""
    return {"frontends": Frontends(**values)}


def lines_of(text: str) -> list[str]:
    """Lines with CRLF, stray CRs and trailing spaces removed."""
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def require_text(text: str, what: str) -> str:
    """The text, or ParseError when it is empty or binary."""
    if not text or not text.strip():
        raise ParseError(f"empty {what} output")
    if "\x00" in text:
        raise ParseError(f"{what}: binary data, not text")
    return text


def as_version(text: str | None) -> str | None:
    """A bare version ("v0.0.47" -> "0.0.47") when the whole text is one, else None."""
    if text is None:
        return None
    match = _VERSION_RE.match(text.strip())
    return match.group(1) if match else None


# Float noise, not a version: a number a JSON document prints on a line of its own
# ("0.018275361000632984"): a "0.0..." fraction, or a part longer than any version's.
_FLOAT_NOISE = re.compile(r"^0\.0\d*$|\d{9,}")
_NUMERIC_PART = re.compile(r"\d+(?:\.\d+)+")


def bare_version(line: str | None) -> str | None:
    """A line that is a version and nothing else ("v0.0.47" -> "0.0.47"), when it looks like
    one: digits.digits, not a float's noise ("0.018275361000632984")."""
    version = as_version(line)
    numeric = _NUMERIC_PART.match(version or "")
    if version is None or numeric is None or _FLOAT_NOISE.search(numeric.group()):
        return None
    return version


def cells(line: str) -> list[tuple[int, str]]:
    """(start column, text) of each cell of a table row; cells are 2+ spaces apart."""
    return [(m.start(), m.group()) for m in _GAP.finditer(line.replace("\t", "  "))]


def row_by_header(header: list[tuple[int, str]], line: str) -> dict[str, str]:
    """A table row as {column title: text}.

    Cells map one to one when the counts agree; otherwise (empty cells, wide values) each
    cell goes to the column its span overlaps most, the columns spanning from one title's
    start to the next one's.
    """
    starts = [start for start, _ in header]
    row = [piece for cell in cells(line) for piece in _split_at(cell, starts)]
    titles = [title for _, title in header]
    if len(row) == len(header):
        return {title: text for title, (_, text) in zip(titles, row, strict=True)}
    ends = [*starts[1:], 1 << 30]
    found: dict[str, list[str]] = {}
    for start, text in row:
        end = start + len(text)
        overlaps = [max(0, min(end, e) - max(start, s)) for s, e in zip(starts, ends, strict=True)]
        best = max(range(len(overlaps)), key=lambda i: (overlaps[i], -i))
        found.setdefault(titles[best], []).append(text)
    return {title: " ".join(parts) for title, parts in found.items()}


def _split_at(cell: tuple[int, str], starts: list[int]) -> list[tuple[int, str]]:
    """A cell that runs into the next column with one space between (a value that filled
    its column) split where that column's title starts."""
    start, text = cell
    pieces: list[tuple[int, str]] = []
    for boundary in starts:
        cut = boundary - start
        if 0 < cut < len(text) and text[cut - 1] == " " and text[cut] != " ":
            pieces.append((start, text[: cut - 1]))
            start, text = boundary, text[cut:]
    return [*pieces, (start, text)]


def load_json(text: str, what: str) -> Any:
    """Strict JSON, or ParseError with a one-line reason."""
    from envstamp.manifest.serialize import parse_json_strict

    require_text(text, what)
    try:
        return parse_json_strict(text.lstrip("\ufeff"), what=what)
    except InputError as exc:
        raise ParseError(str(exc)) from None


def strip_credentials(value: str) -> str:
    """A value (URL, host, setting) without credentials or tokens
    (``envstamp.manifest.secrets``)."""
    from envstamp.manifest.secrets import redact_value

    return redact_value(value)
