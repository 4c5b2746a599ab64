"""parsers/windows_listing: the same adapters written in every shape people paste read the same.

Records are generated, written as Format-List, wmic /format:list (also as UTF-16 bytes read as
text, as saved files are), a PowerShell table, a wmic table and ConvertTo-Json, and must come
back exactly.  The layouts follow what the tools print (tests/fixtures/windows holds samples).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.errors import ParseError
from envstamp.parsers.windows_listing import (
    CLASS_PROPERTIES,
    KNOWN_PROPERTIES,
    parse_records,
    repair,
)

KEYS = ["Name", "AdapterRAM", "DriverVersion", "PNPDeviceID", "VideoProcessor", "Status",
        "AdapterCompatibility", "DriverDate"]
_WORD = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789().-_/&",
                min_size=1, max_size=10)
# A value starts with a letter or digit (a row of dashes only would be a table's rule line).
VALUES = st.tuples(st.sampled_from("ABCXYZabcxyz0123456789"),
                   st.lists(_WORD, min_size=1, max_size=4).map(" ".join)).map("".join)


@st.composite
def adapters(draw: st.DrawFn) -> list[dict[str, str]]:
    """One to three adapters sharing a property selection that includes a known one."""
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=5, unique=True))
    count = draw(st.integers(1, 3))
    return [{key: draw(VALUES) for key in keys} for _ in range(count)]


def format_list(records: list[dict[str, str]], separator: str = " : ") -> str:
    width = max(len(key) for key in records[0])
    blocks = []
    for record in records:
        if separator == "=":
            lines = [f"{key}={value}" for key, value in record.items()]
        else:
            lines = [f"{key.ljust(width)}{separator}{value}" for key, value in record.items()]
        blocks.append("\n".join(lines))
    return "\n\n" + "\n\n".join(blocks) + "\n\n\n"


def table(records: list[dict[str, str]], *, dashes: bool) -> str:
    keys = list(records[0])
    widths = [max(len(key), *(len(r[key]) for r in records)) + 2 for key in keys]

    def row(cells: list[str]) -> str:
        return "".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    lines = [row(keys)]
    if dashes:
        lines.append(row(["-" * len(key) for key in keys]))
    lines += [row([record[key] for key in keys]) for record in records]
    return "\n" + "\n".join(line.rstrip() for line in lines) + "\n\n"


def as_utf16_bytes_read_as_text(text: str) -> str:
    """What a wmic file saved as UTF-16 with CRLF looks like when read as single bytes."""
    return text.replace("\n", "\r\n").encode("utf-16").decode("latin-1")


@settings(max_examples=60, deadline=None)
@given(adapters())
def test_format_list_reads_back(records: list[dict[str, str]]) -> None:
    assert parse_records(format_list(records)) == records


@settings(max_examples=60, deadline=None)
@given(adapters())
def test_wmic_list_reads_back_also_from_utf16_bytes(records: list[dict[str, str]]) -> None:
    text = format_list(records, "=")
    assert parse_records(text) == records
    assert parse_records(as_utf16_bytes_read_as_text(text)) == records


@settings(max_examples=60, deadline=None)
@given(adapters())
def test_powershell_and_wmic_tables_read_back(records: list[dict[str, str]]) -> None:
    assert parse_records(table(records, dashes=True)) == records
    assert parse_records(table(records, dashes=False)) == records


@settings(max_examples=60, deadline=None)
@given(adapters())
def test_convert_to_json_reads_back_as_one_object_or_a_list(
    records: list[dict[str, str]],
) -> None:
    assert parse_records(json.dumps(records, indent=4)) == records
    assert parse_records(json.dumps(records[0])) == records[:1]


def test_json_nulls_and_numbers_become_text() -> None:
    text = json.dumps([{"Name": "NVIDIA GeForce RTX 4070 Ti SUPER", "AdapterRAM": 4293918720,
                        "DriverVersion": None, "Status": "OK  "}])
    assert parse_records(text) == [{"Name": "NVIDIA GeForce RTX 4070 Ti SUPER",
                                    "AdapterRAM": "4293918720", "DriverVersion": "",
                                    "Status": "OK"}]


def test_format_list_wraps_long_values_onto_indented_lines() -> None:
    text = ("Name          : Intel(R) UHD Graphics 770\n"
            "PNPDeviceID   : PCI\\VEN_8086&DEV_4680&SUBSYS_\n"
            "                88821043&REV_0C\\3&11583659&0&10\n"
            "VideoProcessor: Intel(R) UHD Graphics Family\n"
            "                Extended\n")
    (record,) = parse_records(text)
    # A value without spaces is one token cut by the width: joined without a space.
    assert record["PNPDeviceID"] == "PCI\\VEN_8086&DEV_4680&SUBSYS_88821043&REV_0C\\3&11583659&0&10"
    assert record["VideoProcessor"] == "Intel(R) UHD Graphics Family Extended"


def test_a_table_stops_at_the_first_blank_line_after_its_rows() -> None:
    text = ("Name                     DriverVersion\n"
            "----                     -------------\n"
            "NVIDIA GeForce RTX 3060  32.0.15.6094\n"
            "\n"
            "PS C:\\> Get-Date\n")
    assert parse_records(text) == [{"Name": "NVIDIA GeForce RTX 3060",
                                     "DriverVersion": "32.0.15.6094"}]


def test_records_without_a_known_property_are_dropped() -> None:
    text = "Name : NVIDIA RTX A2000\n\nFoo : bar\nBaz : qux\n"
    assert parse_records(text) == [{"Name": "NVIDIA RTX A2000"}]


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t\n", "Foo : bar\nBaz : 1\n", "[1, 2, 3]", '{"Foo": 1}', "[{", "just words\n",
     "Get-CimInstance : The term is not recognized\n"],
)
def test_what_is_not_a_listing(text: str) -> None:
    with pytest.raises(ParseError):
        parse_records(text)


def test_repair_undoes_utf16_read_as_bytes() -> None:
    assert repair("\xff\xfeN\x00a\x00m\x00e\x00=\x00x\x00\r\x00\n\x00") == "Name=x\n"
    assert repair("\ufeffName=x\r\n") == "Name=x\n"
    assert repair("Name=x") == "Name=x"


def test_known_properties_are_lower_case_names() -> None:
    assert all(name == name.lower() and name.isalnum() for name in KNOWN_PROPERTIES)
    assert {"name", "adapterram", "driverversion", "pnpdeviceid"} <= KNOWN_PROPERTIES


# Regression: another tool's KEY=value or JSON "name" read as a display adapter (os-release's
# NAME="Ubuntu" became a GPU named "Ubuntu").  A record must be a display adapter's by its keys.
@pytest.mark.parametrize(
    "text",
    ['NAME="Ubuntu"\nVERSION="22.04.4 LTS (Jammy Jellyfish)"\nID=ubuntu\nVERSION_ID="22.04"\n',
     'NAME="Ubuntu"\n', "name : x\nversion : 1.2\n",
     '[{"name": "llama.cpp-win-x86_64-nvidia-cuda-avx2", "version": "1.52.1"}]',
     '{"Name": "x", "Version": "1.0"}'],
)
def test_another_tools_names_are_not_adapters(text: str) -> None:
    with pytest.raises(ParseError):
        parse_records(text)


@pytest.mark.parametrize(
    "text",
    ["Name=NVIDIA GeForce RTX 3090\n\n",  # wmic path win32_VideoController get Name /format:list
     "Name\nNVIDIA GeForce RTX 3090\n",  # wmic ... get Name
     '{"Name": "NVIDIA GeForce RTX 3090", "PSComputerName": null}',
     "name=NVIDIA GeForce RTX 3090\nadapterram=1073741824\n"],  # an adapter's own key, any case
)
def test_a_selection_of_the_classs_own_properties_is_an_adapter(text: str) -> None:
    (record,) = parse_records(text)
    assert "NVIDIA GeForce RTX 3090" in record.values()


_FOREIGN = st.from_regex(r"[A-Za-z][A-Za-z_]{1,12}", fullmatch=True).filter(
    lambda key: key not in CLASS_PROPERTIES and key.lower() not in
    {k.lower() for k in CLASS_PROPERTIES} | {"infname"}
)


@settings(max_examples=60, deadline=None)
@given(adapters(), st.lists(_FOREIGN, min_size=1, max_size=3, unique=True),
       st.sampled_from(["Name", "Caption", "Description", "Status", "DeviceID"]))
def test_a_record_of_a_generic_name_among_foreign_keys_is_dropped(
    records: list[dict[str, str]], foreign: list[str], generic: str
) -> None:
    """An adapter's record reads back; another record that holds only a name every class has
    beside keys the class does not have is no adapter, whatever its case."""
    stranger = {generic.upper(): "Ubuntu", **dict.fromkeys(foreign, "x")}
    text = format_list([*records, stranger], "=")
    assert parse_records(text) == records
