"""parsers/os_release as properties: whatever value a distribution writes, in any of the quoting
styles the os-release specification allows, reads back as the shell would read it; the
distribution fields are chosen by the specification's precedence.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.os_release import (
    parse_key_value_file,
    parse_lsb_release,
    parse_os_release,
    parse_release_line,
    unquote_value,
)
from envstamp.parsers.textutil import NULL_TOKENS

# Printable text a distribution may put in a value (no line breaks of any kind).
VALUE_CHARS = string.ascii_letters + string.digits + " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~äéøß"
values = st.text(alphabet=VALUE_CHARS, max_size=30)
keys = st.from_regex(r"[A-Z_][A-Z0-9_]{0,15}", fullmatch=True)


def double_quoted(value: str) -> str:
    """As the specification says: "..." with \\, ", $ and ` escaped by a backslash."""
    return '"' + "".join("\\" + c if c in '\\"$`' else c for c in value) + '"'


def single_quoted(value: str) -> str:
    return "'" + value + "'"


def unquoted(value: str) -> str:
    """Every character the shell would read specially, escaped."""
    return "".join(c if c.isalnum() or c in "._-/:+,@%" else "\\" + c for c in value)


@settings(max_examples=200)
@given(value=values, style=st.sampled_from(["double", "single", "bare"]))
def test_every_quoting_style_reads_back_as_the_shell_reads_it(value: str, style: str) -> None:
    if style == "single" and "'" in value:
        style = "double"  # nothing can escape a quote inside single quotes
    if style == "bare" and (value != value.strip() or not value):
        style = "double"  # leading and trailing blanks only survive quoting
    written = {"double": double_quoted, "single": single_quoted, "bare": unquoted}[style](value)
    assert unquote_value(written) == value
    assert parse_key_value_file(f"KEY={written}\n") == {"KEY": value}


@settings(max_examples=50)
@given(assignments=st.lists(st.tuples(keys, values), max_size=8))
def test_a_file_of_assignments_reads_as_the_last_value_of_each_key(
    assignments: list[tuple[str, str]],
) -> None:
    lines = ["# written by a generator", ""]
    for key, value in assignments:
        lines += [f"{key}={double_quoted(value)}", "  # a comment", "not an assignment"]
    assert parse_key_value_file("\n".join(lines)) == dict(assignments)


@pytest.mark.parametrize(
    "line",
    ["1KEY=x", "KEY-NAME=x", "KEY NAME=x", "=x", "# ID=x", "  #ID=x", "ID", "ÄID=x"],
)
def test_lines_that_assign_no_valid_name_are_skipped(line: str) -> None:
    assert parse_key_value_file(line + "\nID=real\n") == {"ID": "real"}


def test_blanks_around_names_and_values_and_windows_line_ends() -> None:
    text = '  NAME = "Rocky Linux"  \r\nID=rocky\r\nVERSION_ID="9.4"\r\n'
    assert parse_key_value_file(text) == {"NAME": "Rocky Linux", "ID": "rocky",
                                          "VERSION_ID": "9.4"}


# ------------------------------------------------------------------- distribution fields


@st.composite
def os_release_files(draw: st.DrawFn) -> dict[str, str]:
    """A set of os-release fields that names a distribution (no value is a word tools print
    for "unknown", which reads as null: tested below)."""
    words = st.text(alphabet=string.ascii_letters + string.digits + " .-", min_size=1,
                    max_size=12).filter(lambda w: " ".join(w.split()).lower() not in NULL_TOKENS)
    fields = {"ID": draw(st.from_regex(r"[a-z][a-z0-9._-]{0,10}", fullmatch=True))}
    for optional in ("NAME", "VERSION_ID", "VERSION", "PRETTY_NAME", "VERSION_CODENAME",
                     "UBUNTU_CODENAME"):
        if draw(st.booleans()):
            fields[optional] = draw(words)
    if draw(st.booleans()):
        fields["ID_LIKE"] = " ".join(draw(st.lists(st.sampled_from(
            ["debian", "ubuntu", "rhel", "fedora", "suse", "arch"]), min_size=1, max_size=3)))
    return fields


def collapsed(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None and text.split() else None


@settings(max_examples=60)
@given(fields=os_release_files())
def test_distribution_fields_follow_the_specification(fields: dict[str, str]) -> None:
    text = "\n".join(f"{key}={double_quoted(value)}" for key, value in fields.items())
    found = parse_os_release(text)
    assert found.distro_id == fields["ID"]
    assert found.distro_name == collapsed(fields.get("NAME"))
    assert found.distro_version == collapsed(fields.get("VERSION_ID"))
    assert found.distro_like == fields.get("ID_LIKE", "").split()
    # A codename: VERSION_CODENAME, else UBUNTU_CODENAME, else from VERSION's "(...)" or ", ..."
    stated = collapsed(fields.get("VERSION_CODENAME")) or collapsed(fields.get("UBUNTU_CODENAME"))
    if stated is not None:
        assert found.distro_codename == stated
    # PRETTY_NAME as written, else composed from NAME and VERSION (or VERSION_ID)
    if "PRETTY_NAME" in fields:
        assert found.distro_pretty == collapsed(fields["PRETTY_NAME"])
    elif "NAME" in fields:
        version = collapsed(fields.get("VERSION")) or collapsed(fields.get("VERSION_ID")) or ""
        assert found.distro_pretty == collapsed(f"{fields['NAME']} {version}")
    else:
        assert found.distro_pretty is None
    # The kernel and the machine are not os-release's to say.
    assert (found.system, found.kernel, found.arch) == (None, None, None)


@pytest.mark.parametrize(
    ("version", "codename"),
    [('"22.04.4 LTS (Jammy Jellyfish)"', "Jammy Jellyfish"), ('"8 (Core)"', "Core"),
     ('"14.04.6 LTS, Trusty Tahr"', "Trusty Tahr"), ('"40 (Workstation Edition)"',
                                                     "Workstation Edition")],
)
def test_the_codename_falls_back_to_version(version: str, codename: str) -> None:
    found = parse_os_release(f"ID=x\nVERSION={version}\nVERSION_CODENAME=\n")
    assert found.distro_codename == codename


def test_unknown_words_are_null_not_values() -> None:
    found = parse_os_release('ID=x\nNAME="N/A"\nVERSION_ID=unknown\nPRETTY_NAME=""\n')
    assert (found.distro_name, found.distro_version, found.distro_pretty) == (None, None, None)


@pytest.mark.parametrize("text", ["VERSION=1\n", "ID_LIKE=debian\nHOME_URL=x\n", 'ID=""\n'])
def test_a_file_naming_no_distribution_is_refused(text: str) -> None:
    with pytest.raises(ParseError, match="not an os-release file"):
        parse_os_release(text)


# ----------------------------------------------------------------------- older files


@settings(max_examples=40)
@given(name=st.sampled_from(["Ubuntu", "LinuxMint", "Pop", "elementary OS"]),
       release=st.from_regex(r"[0-9]{1,2}\.[0-9]{2}", fullmatch=True),
       codename=st.from_regex(r"[a-z]{3,10}", fullmatch=True))
def test_lsb_release_fields(name: str, release: str, codename: str) -> None:
    text = (f"DISTRIB_ID={double_quoted(name)}\nDISTRIB_RELEASE={release}\n"
            f"DISTRIB_CODENAME={codename}\nDISTRIB_DESCRIPTION=\"{name} {release} LTS\"\n")
    found = parse_lsb_release(text)
    assert found.distro_id == name.lower().replace(" ", "")
    assert (found.distro_name, found.distro_version, found.distro_codename) == (
        name, release, codename)
    assert found.distro_pretty == f"{name} {release} LTS"


@pytest.mark.parametrize(
    ("line", "name", "version", "codename"),
    [
        ("CentOS release 6.10 (Final)", "CentOS", "6.10", "Final"),
        ("CentOS Linux release 7.9.2009 (Core)", "CentOS Linux", "7.9.2009", "Core"),
        ("Red Hat Enterprise Linux Server release 6.5 (Santiago)",
         "Red Hat Enterprise Linux Server", "6.5", "Santiago"),
        ("Fedora release 20 (Heisenbug)", "Fedora", "20", "Heisenbug"),
        ("Amazon Linux AMI release 2018.03", "Amazon Linux AMI", "2018.03", None),
        ("\n\n  Gentoo Base System release 2.14\n", "Gentoo Base System", "2.14", None),
    ],
)
def test_release_lines(line: str, name: str, version: str, codename: str | None) -> None:
    found = parse_release_line(line)
    assert (found.distro_name, found.distro_version, found.distro_codename) == (
        name, version, codename)
    assert found.distro_id == name.split(maxsplit=1)[0].lower()
    assert found.distro_pretty == " ".join(line.split())


@pytest.mark.parametrize("text", ["", "\n  \n", "no version here", "release"])
def test_what_is_not_a_release_line(text: str) -> None:
    with pytest.raises(ParseError):
        parse_release_line(text)
