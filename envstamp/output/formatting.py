"""Formatting shared by every view: sizes, durations, digests, plurals, Markdown cells and
text tables that fit a terminal.  One copy of each, so ``show``, ``diff``, ``compare`` and
``run`` say a thing the same way."""

from __future__ import annotations

from collections.abc import Sequence

# The two digests of a capture, named as their JSON fields are named (``identity_digest``,
# ``manifest_digest``) wherever one is printed (run, show, diff, check), the identity first:
# the identity digest hashes what identifies the machine and its configuration (the same for
# every capture of one setup); the manifest digest hashes the manifest's canonical JSON
# (what each result of a results log names).  Printed shortened.
IDENTITY_DIGEST = "identity digest"
MANIFEST_DIGEST = "manifest digest"

# The heading of a diff report, by the verb that made it.
DIFF_TITLE = "envstamp diff"
CHECK_TITLE = "envstamp check"

# Text tables wider than this are laid out another way (compare's field blocks).
TEXT_WIDTH = 100


def plural(count: int, noun: str, many: str | None = None) -> str:
    """ "1 difference", "2 differences", "0 results"; ``many`` for an irregular plural."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def short_digest(digest: str | None) -> str:
    """ "sha256:036c03cee16d" (12 hex digits), or "unknown"."""
    return digest[:19] if digest else "unknown"


def identity_text(digest: str | None) -> str:
    """ "identity digest sha256:036c03cee16d"."""
    return f"{IDENTITY_DIGEST} {short_digest(digest)}"


def manifest_digests_text(digests: Sequence[str]) -> str:
    """ "manifest digest sha256:e077acbb08bd", several as "manifest digests a, b"; "" for none."""
    if not digests:
        return ""
    noun = MANIFEST_DIGEST if len(digests) == 1 else MANIFEST_DIGEST + "s"
    return f"{noun} " + ", ".join(short_digest(d) for d in digests)


def digests_text(identity: str | None, manifest: str | None) -> str:
    """ "identity digest sha256:036c03cee16d, manifest digest sha256:e077acbb08bd"."""
    return f"{identity_text(identity)}, {MANIFEST_DIGEST} {short_digest(manifest)}"


def timestamp(value: str | None) -> str:
    """A capture time as stored (RFC 3339, UTC), or "unknown": never rewritten, so it reads
    the same in text, Markdown and JSON."""
    return value or "unknown"


def human_bytes(value: int | None) -> str | None:
    """1073741824 -> "1.0 GiB"; None stays None.  The unit ladder is the diff's own
    (``diffing.rules.human_bytes``, the lower layer), so a size reads alike in a diff's change
    and in a summary."""
    if value is None:
        return None
    from envstamp.diffing.rules import human_bytes as ladder

    return ladder(value)


def seconds(value: float) -> str:
    """A duration: "1.250 s", "12.00 ms", "850.0 us"."""
    if value >= 1:
        return f"{value:.3f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.1f} us"


def md_cell(text: object) -> str:
    """Text safe in a Markdown table cell: pipes escaped, one line."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_code(text: str) -> str:
    """`text` in a cell, or nothing for an empty value."""
    return f"`{md_cell(text)}`" if text else ""


def table(header: Sequence[str], body: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """A plain text table, columns padded to their widest cell, no trailing blanks."""
    rows = [list(header), *(list(row) for row in body)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def fits(lines: Sequence[str], width: int = TEXT_WIDTH) -> bool:
    return all(len(line) <= width for line in lines)


# A wrapped table column is never narrower than this; a table that would need narrower ones
# is laid out another way by its view.
MIN_COLUMN = 12


def wrapped_table(header: Sequence[str], body: Sequence[Sequence[str]], *, fixed: int = 1,
                  width: int = TEXT_WIDTH, indent: str = "  ") -> list[str] | None:
    """A text table in ``width`` columns whose cells wrap onto lines of their own; the first
    ``fixed`` columns keep their width.  None when the others would be narrower than
    :data:`MIN_COLUMN`."""
    rows = [list(header), *(list(row) for row in body)]
    natural = [max(len(row[i]) for row in rows) for i in range(len(header))]
    room = width - len(indent) - 2 * (len(header) - 1) - sum(natural[:fixed])
    widths = natural[:fixed] + _share(natural[fixed:], room)
    if min(widths[fixed:], default=MIN_COLUMN) < MIN_COLUMN:
        return None
    out = []
    for row in rows:
        cells = [wrap(cell, w, "") if i >= fixed else [cell]
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        for n in range(max(len(c) for c in cells)):
            parts = [(c[n] if n < len(c) else "").ljust(w)
                     for c, w in zip(cells, widths, strict=True)]
            out.append((indent + "  ".join(parts)).rstrip())
    return out


def _share(natural: list[int], room: int) -> list[int]:
    """Column widths within ``room``: a column narrower than an even share keeps its width,
    the wider ones split what is left evenly."""
    widths = list(natural)
    wide = list(range(len(natural)))
    while wide:
        share = (room - sum(widths[i] for i in range(len(natural)) if i not in wide)) // len(wide)
        narrow = [i for i in wide if natural[i] <= share]
        if not narrow:
            for i in wide:
                widths[i] = share
            break
        wide = [i for i in wide if i not in narrow]
    return widths


def wrap(text: str, width: int, indent: str) -> list[str]:
    """``text`` in lines of at most ``width`` columns, each after ``indent``; broken at a
    space, else after a "/", "-" or "," (a path, a version), else hard (a hash)."""
    room = max(width - len(indent), 8)
    out: list[str] = []
    rest = text
    while len(rest) > room:
        out.append(indent + rest[:_break_at(rest, room)].rstrip())
        rest = rest[len(out[-1]) - len(indent):].lstrip()
    out.append(indent + rest)
    return out


def _break_at(text: str, room: int) -> int:
    """Where a line of at most ``room`` characters of ``text`` ends."""
    space = text.rfind(" ", 1, room + 1)
    if space > 0:
        return space
    mark = max(text.rfind(c, 1, room) for c in "/-,")
    return mark + 1 if mark > 0 else room
