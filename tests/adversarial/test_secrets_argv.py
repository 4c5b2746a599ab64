"""Credentials on command lines decided by meaning (issue 12 review, gap 6).

``-u user:password`` / ``--user user:password`` (curl, wget) is a credential by its shape;
``sshpass -p X`` and ``mysql -pX`` are passwords because those tools say so.  ``-p`` alone is
ambiguous: llama-bench's ``-p 512`` is a prompt length, ssh's ``-p 22`` a port, pytest's ``-p
no:cacheprovider`` a plugin, gcc's ``-pthread`` a switch - they stay.  An attached ``-pX`` of
a tool envstamp does not know goes unless it reads as a number, a list of numbers or a word
option.  The passwords below are made up for these tests.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envstamp.manifest.secrets import REDACTED, redact_argv, redact_value

R = REDACTED


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        # the review's own command line
        (["sh", "-c", "true", "-u", "admin:SEKRET55", "-pSEKRET56"],
         ["sh", "-c", "true", "-u", R, f"-p{R}"]),
        # curl and wget credentials
        (["curl", "-u", "admin:pw-Zq70", "https://h/x"], ["curl", "-u", R, "https://h/x"]),
        (["curl", "-uadmin:pw-Zq71", "https://h/x"], ["curl", f"-u{R}", "https://h/x"]),
        (["curl", "--user", "bob:pw-Zq72", "h"], ["curl", "--user", R, "h"]),
        (["curl", "--user=bob:pw-Zq73", "h"], ["curl", f"--user={R}", "h"]),
        (["curl", "--proxy-user", "p:pw-Zq74", "-U", "q:pw-Zq75", "h"],
         ["curl", "--proxy-user", R, "-U", R, "h"]),
        (["curl", "-u", "admin:123456", "h"], ["curl", "-u", R, "h"]),  # a numeric password
        (["wget", "--user=bob", "--password=pw-Zq76", "h"],
         ["wget", "--user=bob", f"--password={R}", "h"]),
        (["wget", "--http-user", "bob", "--http-password", "pw-Zq77", "h"],
         ["wget", "--http-user", "bob", "--http-password", R, "h"]),
        # tools whose -p is a password
        (["sshpass", "-p", "hunter2", "ssh", "-p", "22", "host"],
         ["sshpass", "-p", R, "ssh", "-p", "22", "host"]),
        (["/usr/bin/sshpass", "-phunter2", "ssh", "host"],
         ["/usr/bin/sshpass", f"-p{R}", "ssh", "host"]),
        (["sshpass", "-v", "-P", "assword", "-p", "-dash-pw", "ssh", "-p", "2222", "h"],
         ["sshpass", "-v", "-P", "assword", "-p", R, "ssh", "-p", "2222", "h"]),
        (["timeout", "9", "sshpass", "-p", "1234", "scp", "a", "h:b"],
         ["timeout", "9", "sshpass", "-p", R, "scp", "a", "h:b"]),
        (["mysql", "-uroot", "-psecret", "-h", "db", "bench"],
         ["mysql", "-uroot", f"-p{R}", "-h", "db", "bench"]),
        (["mysqldump", "-p", "bench"], ["mysqldump", "-p", "bench"]),  # -p alone: it prompts
        (["mariadb-dump", "-pabc", "db"], ["mariadb-dump", f"-p{R}", "db"]),
        (["mysql.exe", "-pabc"], ["mysql.exe", f"-p{R}"]),
    ],
)  # fmt: skip
def test_credentials_on_command_lines(argv: list[str], expected: list[str]) -> None:
    assert redact_argv(argv) == expected


KEPT_ARGVS = [
    ["llama-bench", "-m", "m.gguf", "-p", "512", "-n", "128"],
    ["llama-bench", "-p", "512,1024", "-pg", "512,128", "-p1024"],
    ["llama-bench", "-p512,1024,2048", "-p", "0"],
    ["ssh", "-p", "22", "host"],
    ["python", "-m", "pytest", "-p", "no:cacheprovider", "-pno:randomly"],
    ["cc", "-pthread", "-pipe", "-pedantic-errors", "-O2", "x.c"],
    ["python", "-u", "bench.py"],
    ["docker", "run", "-u", "1000:1000", "img"],
    ["pip", "install", "--user", "git+https://github.com/o/r.git"],
    ["curl", "-u", "admin:", "https://h/x"],  # curl asks for the password
    ["curl", "-u", "admin", "https://h/x"],
    ["sort", "-u", "file.txt"],
    ["pg_dump", "-U", "postgres", "db"],
    [r"C:\llama\llama-bench.exe", "-u", r"C:\x", "-p", "64"],
    ["mysql", "-p", "bench"],
]


@pytest.mark.parametrize("argv", KEPT_ARGVS)
def test_values_that_are_no_password_stay(argv: list[str]) -> None:
    assert redact_argv(argv) == argv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sshpass -p hunter2 ssh -p 22 host", f"sshpass -p {R} ssh -p 22 host"),
        ("sshpass -f pwfile -phunter3 ssh host", f"sshpass -f pwfile -p{R} ssh host"),
        ("curl -u admin:pw-Zq78 https://h/x", f"curl -u {R} https://h/x"),
        ("curl --user=admin:pw-Zq79 h", f"curl --user={R} h"),
        ('sh -c "curl -uadmin:pw-Zq80 h"', f'sh -c "curl -u{R} h"'),
        ("mysql -u root -psecret bench", f"mysql -u root -p{R} bench"),
        ("tool -pSEKRET56 x", f"tool -p{R} x"),
        # kept
        ("llama-bench -p 512 -n 128 -p1024", "llama-bench -p 512 -n 128 -p1024"),
        ("cc -pthread -pipe x.c", "cc -pthread -pipe x.c"),
        ("docker run -u 1000:1000 img", "docker run -u 1000:1000 img"),
        ("mysql -p bench", "mysql -p bench"),
        ("ssh -p 22 host", "ssh -p 22 host"),
    ],
)
def test_command_lines_inside_values(text: str, expected: str) -> None:
    assert redact_value(text) == expected


PASSWORD = st.text("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!%+_.-", min_size=4,
                   max_size=24).filter(lambda p: not p.startswith("-"))  # fmt: skip
USER = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=12).filter(
    lambda u: not u.isdigit()  # digits:digits is uid:gid (docker -u 1000:1000)
)


@settings(max_examples=200)
@given(USER, PASSWORD, st.sampled_from(["-u", "--user", "-U", "--proxy-user"]))
def test_a_user_password_pair_never_survives(user: str, password: str, flag: str) -> None:
    joined = f"{user}:{password}"
    assert redact_argv(["curl", flag, joined, "h"]) == ["curl", flag, R, "h"]
    assert redact_argv(["curl", f"{flag}={joined}", "h"]) == ["curl", f"{flag}={R}", "h"]
    assert redact_value(f"curl {flag} {joined} https://h/x") == f"curl {flag} {R} https://h/x"


@settings(max_examples=200)
@given(PASSWORD, st.sampled_from(["sshpass", "/usr/bin/sshpass"]), st.booleans())
def test_an_sshpass_password_never_survives(password: str, tool: str, attached: bool) -> None:
    argv = [tool, "-p" + password] if attached else [tool, "-p", password]
    out = redact_argv([*argv, "ssh", "-p", "22", "host"])
    hidden = [tool, "-p" + R] if attached else [tool, "-p", R]
    assert out == [*hidden, "ssh", "-p", "22", "host"]


@settings(max_examples=200)
@given(st.lists(st.integers(0, 100000), min_size=1, max_size=5), st.booleans())
def test_numbers_after_p_always_stay(numbers: list[int], attached: bool) -> None:
    value = ",".join(map(str, numbers))
    argv = ["llama-bench", "-p" + value] if attached else ["llama-bench", "-p", value]
    assert redact_argv(argv) == argv
