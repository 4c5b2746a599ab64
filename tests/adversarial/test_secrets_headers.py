"""Authorization headers and password pairs inside values (issue 12 review, gap 5).

An ``Authorization`` or ``Proxy-Authorization`` header value is a credential whatever its
scheme: the whole value goes, not only the word after a scheme envstamp happens to know
(``SSWS``, ``Key``, ``Api-Key``, AWS's ``Signature=``, Digest's ``response=`` leaked).  And a
password written as ``pwd=`` / ``passwd=`` / ``password=`` inside a value goes too, while the
shell's ``PWD=/some/folder`` stays.  The credentials below are made up for these tests.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.manifest.secrets import REDACTED, redact_argv, redact_value

AWS_SIGNATURE = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
DIGEST_RESPONSE = "6629fae49393a05397450978507c4ef1"

HEADERS = [
    # (scheme and credential as written, a piece that must never come back)
    ("SSWS 00QCjAl4MlV-WPXM-ABcD3fGhIjKlMnOpQrStUv", "00QCjAl4MlV"),
    ("Key fal_x-Zq61-secret", "fal_x-Zq61"),
    ("Api-Key apikey-Zq62", "apikey-Zq62"),
    ("Token tok-Zq63", "tok-Zq63"),
    ("Bearer bearer-Zq64", "bearer-Zq64"),
    ("Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("Splunk spl-Zq65", "spl-Zq65"),
    ("zq66-a-credential-with-no-scheme-at-all", "zq66"),
    (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host;range;x-amz-date, Signature={AWS_SIGNATURE}",
        AWS_SIGNATURE,
    ),
    (
        'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e", '
        f'uri="/dir/index.html", qop=auth, nc=00000001, response="{DIGEST_RESPONSE}"',
        DIGEST_RESPONSE,
    ),
]


@pytest.mark.parametrize("header", ["Authorization", "authorization", "Proxy-Authorization"])
@pytest.mark.parametrize(("value", "secret"), HEADERS)
def test_an_authorization_header_value_goes_whole(header: str, value: str, secret: str) -> None:
    assert redact_value(f"{header}: {value}") == f"{header}: {REDACTED}"
    assert redact_value(f"{header}={value}") == f"{header}={REDACTED}"


@pytest.mark.parametrize(("value", "secret"), HEADERS)
@pytest.mark.parametrize(
    "template",
    [
        "curl -H '{h}' https://api.example.com/v1",  # a shell command line
        'curl -H "{h}" https://api.example.com/v1',
        "GET /x HTTP/1.1\r\nHost: h\r\n{h}\r\nAccept: */*\r\n",  # a request as printed
        "> {h}\n> Accept: */*",  # curl -v
        "OLLAMA_NOTE={h}",  # an environment value holding it
    ],
)
def test_the_header_goes_and_the_text_around_it_stays(
    template: str, value: str, secret: str
) -> None:
    if '"{h}"' in template:  # inside double quotes a shell needs its quotes escaped
        value = value.replace('"', '\\"')
    out = redact_value(template.format(h="Authorization: " + value))
    assert secret not in out
    assert out == template.format(h="Authorization: " + REDACTED)


def test_a_header_inside_json_text_ends_at_its_string() -> None:
    escaped = 'Digest username=\\"u\\", response=\\"' + DIGEST_RESPONSE + '\\"'
    text = '{"headers": "Authorization: ' + escaped + '", "n": 1}'
    out = redact_value(text)
    assert DIGEST_RESPONSE not in out
    assert out == '{"headers": "Authorization: ' + REDACTED + '", "n": 1}'
    text = '{"raw": "Host: h\\r\\nAuthorization: SSWS ssws-Zq67\\r\\nAccept: x"}'
    assert redact_value(text) == '{"raw": "Host: h\\r\\nAuthorization: <redacted>\\r\\nAccept: x"}'


def test_a_command_line_with_such_a_header() -> None:
    argv = ["curl", "-H", "Authorization: SSWS ssws-Zq68", "https://api.example.com"]
    assert redact_argv(argv) == ["curl", "-H", f"Authorization: {REDACTED}", argv[-1]]


@pytest.mark.parametrize(
    "text", ["Authorization: none", "authorization=false", "authorization: ", "Authorization"]
)
def test_a_setting_named_authorization_is_not_a_credential(text: str) -> None:
    assert redact_value(text) == text


SWITCH = re.compile(
    r"(?i)\d{1,2}|true|false|yes|no|on|off|enabled?|disabled?|none|null"
    r"|bearer|basic|digest|negotiate|ntlm"
)
HEADER_VALUE = st.text(
    string.ascii_letters + string.digits + " =,;:/+-._~\"'", min_size=1, max_size=60
).filter(lambda v: v[0] not in " \t")


@settings(max_examples=300)
@given(st.sampled_from(["Authorization", "Proxy-Authorization"]), HEADER_VALUE)
def test_no_part_of_a_header_line_survives(header: str, value: str) -> None:
    """Whatever a header's value holds, nothing of it comes back on its line."""
    out = redact_value(f"{header}: {value}\nnext line")
    assert out.endswith("\nnext line")
    line = out.split("\n")[0].rstrip()  # spaces after a value are no part of it
    assert line in (f"{header}: {REDACTED}", f"{header}: {value}".rstrip())
    if line != f"{header}: {REDACTED}":  # only a switch or a scheme's name is kept
        assert SWITCH.fullmatch(value.strip().strip("\"'"))


# --------------------------------------------------------------- passwords as key=value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pwd=hunter2", f"pwd={REDACTED}"),
        ("Driver={PostgreSQL};Server=db;Uid=me;Pwd=hunter2;", f"Driver={{PostgreSQL}};Server=db;"
         f"Uid=me;Pwd={REDACTED};"),
        ("UID=me;PWD=Zq69secret", f"UID=me;PWD={REDACTED}"),
        ("user=me passwd=hunter3", f"user=me passwd={REDACTED}"),
        ("user=me password=hunter4 port=5432", f"user=me password={REDACTED} port=5432"),
        ("pass=hunter5", f"pass={REDACTED}"),
        ("pswd=hunter6", f"pswd={REDACTED}"),
        ('{"pwd": "hunter7"}', f'{{"pwd": "{REDACTED}"}}'),
        ("--pwd hunter8", f"--pwd {REDACTED}"),
        # the shell's folders stay
        ("PWD=/home/alice/src", "PWD=/home/alice/src"),
        ("OLDPWD=~/models", "OLDPWD=~/models"),
        (r"PWD=C:\work", r"PWD=C:\work"),
        ("pwd: ./build", "pwd: ./build"),
    ],
)  # fmt: skip
def test_passwords_written_as_pairs(text: str, expected: str) -> None:
    assert redact_value(text) == expected
