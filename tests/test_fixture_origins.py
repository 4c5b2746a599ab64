"""Every fixture folder says where each of its files came from.

A folder of tests/fixtures/ that holds files holds a README.md with an "## Origin" section
(or several, headed "## Origin..."): a Markdown table whose rows name files (backticked names
or glob patterns, several per row allowed) and say how they came to be, starting with one
word:

- ``recorded``: printed by a real tool on a real machine (which, how and when said there);
- ``hand-made``: written by a person (or by a script from a description a person wrote),
  with why no real output was used;
- ``derived``: computed by a script of this project from other fixtures or real outputs.

Every file is named by some row and every row names some file, so a file added without a
word on its origin, or a row left behind by a deleted file, fails here.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ORIGINS = ("recorded", "hand-made", "derived")
IGNORED_DIRS = {"__pycache__"}


def _ignored(path: Path) -> bool:
    return bool(IGNORED_DIRS & set(path.parts))


def fixture_folders(root: Path = FIXTURES) -> list[Path]:
    """Folders under ``root`` that hold at least one file besides a README."""
    return sorted(
        {p.parent for p in root.rglob("*") if p.is_file() and p.name != "README.md"}
        - {p.parent for p in root.rglob("*") if _ignored(p)}
    )


def readmes(root: Path = FIXTURES) -> list[Path]:
    return sorted(p for p in root.rglob("README.md") if not _ignored(p))


def held_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != "README.md")


def origin_rows(readme: str) -> list[tuple[list[str], str]]:
    """(patterns, origin text) of each row of the README's "## Origin" tables (a heading
    that starts with "## Origin", e.g. "## Origin: recorded by hand")."""
    heading = r"^## Origin\b[^\n]*$(.*?)(?=^## |\Z)"
    sections = re.findall(heading, readme, re.MULTILINE | re.DOTALL)
    rows = []
    for line in "\n".join(sections).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|") or set(cells[0]) <= set("-: "):
            continue
        patterns = re.findall(r"`([^`]+)`", cells[0])
        if patterns:
            rows.append((patterns, "|".join(cells[1:]).strip()))
    return rows


def _described(readme: Path) -> list[str]:
    """Paths (relative to the README's folder, "/"-separated) of the files below it."""
    top = readme.parent
    return sorted(
        p.relative_to(top).as_posix()
        for p in top.rglob("*")
        if p.is_file() and p.name != "README.md" and not _ignored(p)
    )


def readme_problems(readme: Path) -> list[str]:
    """What is wrong with the rows of one README's Origin tables: an origin of no known
    kind or saying nothing, a pattern that names no file (patterns are relative to the
    README's folder: ``name.txt``, ``*.json``, ``host-a/*.json``)."""
    rows = origin_rows(readme.read_text(encoding="utf-8"))
    if not rows:
        return ["README.md has no '## Origin' table naming its files"]
    files = _described(readme)
    problems = []
    for patterns, origin in rows:
        word = re.sub(r"[^a-z-].*", "", origin.lower(), flags=re.DOTALL)  # "recorded, then..."
        if word not in ORIGINS or len(origin.split()) < 3:
            problems.append(f"row {patterns}: origin must start with one of {ORIGINS} and say how")
        for pattern in patterns:
            if not fnmatch.filter(files, pattern):
                problems.append(f"row pattern {pattern!r} names no file of the folder")
    return problems


def origin_problems(folder: Path, root: Path = FIXTURES) -> list[str]:
    """Files of ``folder`` whose origin no README names: the folder's own README, or the
    README of a folder above it up to ``root`` (a recording folder that its generator
    rewrites whole is described by its parent's README)."""
    named: set[str] = set()
    seen_readme = False
    for top in (folder, *folder.parents):
        readme = top / "README.md"
        if readme.is_file():
            seen_readme = True
            rows = origin_rows(readme.read_text(encoding="utf-8"))
            for name in held_files(folder):
                relative = (folder / name).relative_to(top).as_posix()
                if any(fnmatch.fnmatch(relative, p) for patterns, _ in rows for p in patterns):
                    named.add(name)
        if top == root:
            break
    if not seen_readme:
        return ["no README.md here or above"]
    return [f"{name}: no origin given" for name in held_files(folder) if name not in named]


@pytest.mark.parametrize(
    "folder", fixture_folders(), ids=lambda p: str(p.relative_to(FIXTURES))
)
def test_fixture_folder_names_the_origin_of_every_file(folder: Path) -> None:
    assert origin_problems(folder) == []


@pytest.mark.parametrize("readme", readmes(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_readme_rows_name_files_and_an_origin(readme: Path) -> None:
    assert readme_problems(readme) == []


def test_every_fixture_folder_is_checked() -> None:
    # the walk must see the folders it is meant to (a wrong root would pass vacuously)
    checked = {str(p.relative_to(FIXTURES)) for p in fixture_folders()}
    assert {"nvidia", "hosts/linux-debian12-vm", "llamacpp-real/b5308-8733e0cf6"} <= checked
    assert len(checked) >= 50
    assert len(readmes()) >= 20


def test_every_top_fixture_folder_has_an_index_readme() -> None:
    """A folder of tests/fixtures/ that holds only subfolders (text/, llamacpp-real/) still
    says what they are and where their files came from, for a reader who starts there."""
    top = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and not _ignored(p))
    assert {"text", "llamacpp-real", "hosts"} <= {p.name for p in top}
    missing = [p.name for p in top if not (p / "README.md").is_file()]
    assert missing == []
    for folder in top:
        assert readme_problems(folder / "README.md") == [], folder.name


def _folder(tmp_path: Path, readme: str | None, *names: str) -> Path:
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    if readme is not None:
        (tmp_path / "README.md").write_text(readme)
    return tmp_path


TABLE = "# t\n\n## Origin\n\n| files | origin |\n|---|---|\n{rows}\n\n## Later\n\n| `c.txt` | x |\n"


def test_a_folder_without_readme_is_reported(tmp_path: Path) -> None:
    folder = _folder(tmp_path, None, "a.txt")
    assert origin_problems(folder, root=tmp_path) == ["no README.md here or above"]


def test_a_file_no_row_names_is_reported(tmp_path: Path) -> None:
    readme = TABLE.format(rows="| `a.txt` | hand-made: written to the format's documentation |")
    # c.txt is named only in a later section, which is no origin
    folder = _folder(tmp_path, readme, "a.txt", "b.txt", "c.txt")
    problems = origin_problems(folder, root=tmp_path)
    assert problems == ["b.txt: no origin given", "c.txt: no origin given"]


def test_globs_and_several_names_per_row_cover_files(tmp_path: Path) -> None:
    readme = TABLE.format(
        rows="| `*.json`, `x.txt` | recorded: by the runner on a Debian 12 VM |\n"
        "| `c.txt` | derived: from the other files by a script |"
    )
    folder = _folder(tmp_path, readme, "a.json", "b.json", "x.txt", "c.txt")
    assert origin_problems(folder, root=tmp_path) == []
    assert readme_problems(folder / "README.md") == []


def test_a_parent_readme_may_name_the_files_of_a_subfolder(tmp_path: Path) -> None:
    readme = TABLE.format(rows="| `host-a/*.json` | hand-made: answers of a written spec |")
    _folder(tmp_path, readme, "host-a/one.json", "host-a/two.json", "host-b/one.json")
    assert origin_problems(tmp_path / "host-a", root=tmp_path) == []
    assert origin_problems(tmp_path / "host-b", root=tmp_path) == ["one.json: no origin given"]
    assert readme_problems(tmp_path / "README.md") == []


def test_a_row_of_no_known_origin_or_naming_nothing_is_reported(tmp_path: Path) -> None:
    readme = TABLE.format(
        rows="| `a.txt` | found somewhere on the internet |\n"
        "| `gone.txt` | recorded: once upon a time |\n"
        "| `a.txt` | hand-made |"
    )
    problems = readme_problems(_folder(tmp_path, readme, "a.txt") / "README.md")
    assert problems == [
        f"row ['a.txt']: origin must start with one of {ORIGINS} and say how",
        "row pattern 'gone.txt' names no file of the folder",
        f"row ['a.txt']: origin must start with one of {ORIGINS} and say how",
    ]


def test_a_readme_without_origin_section_is_reported(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "# t\n\n| `a.txt` | recorded: by hand |\n", "a.txt")
    assert readme_problems(folder / "README.md") == [
        "README.md has no '## Origin' table naming its files"
    ]
    assert origin_problems(folder, root=tmp_path) == ["a.txt: no origin given"]
