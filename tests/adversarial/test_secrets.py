"""Planted secrets never leak (issue 12, items 6 and 7).

More than 40 distinct secrets are planted in the environment (names and values of every
shape: URL userinfo, malformed and scheme-less URLs, query parameters, headers, token
shapes, random strings, secret words inside names and a token inside a name), in the
command line of ``envstamp run``, in OLLAMA_HOST (three variants, one capture each), in the
git remotes of two fake llama.cpp checkouts and in the output of a fake ``ollama``.  Then
every output envstamp makes is searched for each of them: the manifests (plain and signed),
``--markdown``, ``--json``, ``show`` in every format, ``diff``/``compare --json``, the results
log of ``envstamp run``, every file (and file name) of the ``capture --raw`` recordings, a
replay of a recording, and what each command wrote to stderr.

The machine is the live one (a capture takes a fraction of a second here) with a planted
environment: PATH holds only the fake tools and the system's folders.  The token bodies are
made up for this test.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from envstamp import runner
from envstamp.cli import main as cli
from envstamp.manifest.secrets import REDACTED

pytestmark = [
    pytest.mark.skipif(os.name != "posix", reason="fake tools are sh scripts"),
    pytest.mark.skipif(
        subprocess.run(["git", "--version"], capture_output=True, check=False).returncode,
        reason="needs git for the fake llama.cpp checkouts",
    ),
]

BASIC = base64.b64encode(b"vllmuser:vllm-basic-pw-Zq23").decode()
GHP = "ghp_" + "Rt7vQ2xW9kLm4NpZ8sYb3JcH6dFg1TaE5uVo"
GHP_REMOTE = "ghp_" + "Kd9Wq2Lx7Vb4Nm8Rt3Zs6Pf1Hy5Jc0Ga2EuTo"
HF = "hf_" + "QwErTy7UiOp3AsDfGh9JkLzXcVbNm2Lk5Jh8"
HF2 = "hf_" + "ZxCvBn4MlKjHgFdSa6PoIuYtReWq9Az1Sx3D"
GITHUB_PAT = "github_pat_11ABCDEFG0" + "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5bC7dE9fG2hJ4kL6mN8p"
SK_PROJ = "sk-proj-" + "Ab3De5Fg7Hj9Kl2Mn4Pq6Rs8Tu0Vw1Xy3Za5Bc7De9Fg2Hj4Kl6"
SK_ANT = "sk-ant-api03-" + "Zy9Xw7Vu5Ts3Rq1Po2Nm4Lk6Jh8Gf0Ed2Cb4Az6By8Cx0Dw2Ev4Fu6Gt8Hs0Ir2"
XOXB = "xoxb-" + "2468013579-1357924680-Ab3Cd5Ef7Gh9Ij2Kl4Mn6Op"
AKIA = "AKIA" + "Q7W3E9R1T5Y2U8I4"
GLPAT = "glpat-" + "Xy3Zw5Vu7Ts9Rq1Po2Nm"
AIZA = "AIza" + "Sy9Ab3Cd5Ef7Gh9Ij2Kl4Mn6Op8Qr0St2Uv"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlbnZzdGFtcC10ZXN0In0." + "Qm9ndXNTaWduYXR1cmVGb3JUZXN0cw"
RANDOM40 = "aZ3kP9qLm2Xv8Rt5Wn1Yb7Hc4Jd6Fg0Ks2Ty5Ue"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Ek3Sm2"
NAME_TOKEN = "ghp_" + "Nm3Bv5Cx7Zl9Kj2Hg4Fd6Sa8Qw0Er1Ty3Ui5Op"

# Planted environment: name -> (value, what must never appear).
PLANTED_ENV: dict[str, tuple[str, str]] = {
    # secret-looking names, allow-listed prefixes (their values were recorded on main)
    "MLX_PASSPHRASE": ("mlx-passphrase-Zq01", "mlx-passphrase-Zq01"),
    "OLLAMA_PASS": ("ollama-pass-Zq02", "ollama-pass-Zq02"),
    "VLLM_PWD": ("vllm-pwd-Zq03", "vllm-pwd-Zq03"),
    "ZES_PW": ("zes-pw-Zq04", "zes-pw-Zq04"),
    "PYTORCH_BEARER": ("pytorch-bearer-Zq05", "pytorch-bearer-Zq05"),
    "OLLAMA_API_KEY": ("ollama-api-key-Zq06", "ollama-api-key-Zq06"),
    "GGML_SECRET_SAUCE": ("ggml-secret-Zq07", "ggml-secret-Zq07"),
    "VLLM_SESSION_COOKIE": ("vllm-cookie-Zq08", "vllm-cookie-Zq08"),
    "NCCL_CREDENTIALS": ("nccl-credentials-Zq09", "nccl-credentials-Zq09"),
    "OMP_PRIVATE_KEY_PEM": ("omp-private-Zq10", "omp-private-Zq10"),
    "KMP_AUTH": ("kmp-auth-Zq11", "kmp-auth-Zq11"),
    "MLX_myApiKey": ("mlx-camel-api-key-Zq12", "mlx-camel-api-key-Zq12"),
    "LLAMA_ARG_HF_TOKEN": (HF, HF),
    "MKL_DSN": ("postgresql://dbuser:mkl-dsn-pw-Zq14@db.internal:5432/x", "mkl-dsn-pw-Zq14"),
    "HSA_PASSWD_FILE_CONTENTS": ("hsa-passwd-Zq15", "hsa-passwd-Zq15"),
    # a token inside a variable's name
    "GGML_" + NAME_TOKEN: ("1", NAME_TOKEN),
    # secrets in the values of plain, allow-listed names
    "OLLAMA_ORIGINS": (
        "https://originuser:ollama-origins-pw-Zq17@app.example.com,http://localhost",
        "ollama-origins-pw-Zq17",
    ),
    "GGML_REMOTE_URL": ("http://10.0.0.2/x?api_key=ggml-query-Zq18&n=1", "ggml-query-Zq18"),
    "LLAMA_ARG_URL": ("https://h.example/v1?token=llama-query-Zq19", "llama-query-Zq19"),
    "VLLM_SIGNED_URL": ("https://b.example/c?sv=2022&sig=vllm-sig-Zq20&se=1", "vllm-sig-Zq20"),
    "OLLAMA_HEADERS": ("Authorization: Bearer ollama-bearer-Zq21", "ollama-bearer-Zq21"),
    "VLLM_EXTRA_HEADERS": ("Authorization: Basic " + BASIC, BASIC),
    "MLX_PROXY": ("authorization=Bearer mlx-proxy-bearer-Zq23", "mlx-proxy-bearer-Zq23"),
    "GGML_UPSTREAM": (GHP, GHP),
    "OLLAMA_UPSTREAM": (GITHUB_PAT, GITHUB_PAT),
    "VLLM_OPENAI": (SK_PROJ, SK_PROJ),
    "MLX_ANTHROPIC": (SK_ANT, SK_ANT),
    "LLAMA_SLACK": (XOXB, XOXB),
    "PYTORCH_AWS": (AKIA, AKIA),
    "NCCL_GITLAB": (GLPAT, GLPAT),
    "OMP_JWT": (JWT, JWT),
    "GGML_RANDOM": (RANDOM40, RANDOM40),
    "VLLM_DB": ("host=db user=me password=vllm-libpq-pw-Zq33", "vllm-libpq-pw-Zq33"),
    "LLAMA_ARG_ENDPOINT": ("http://user:p/llama-slash-Zq34@host.example", "llama-slash-Zq34"),
    "GGML_ENDPOINT": ("http://user:p@ggml-atat-Zq35@host.example:1/v1", "ggml-atat-Zq35"),
    "OLLAMA_GOOGLE": (AIZA, AIZA),
    "PYTORCH_HUB": ("hub " + HF2, HF2),
    "MKL_CONFIG": ('{"api_key": "mkl-json-key-Zq38", "threads": 8}', "mkl-json-key-Zq38"),
    # Authorization values of every scheme, and a password pair (issue 12 review, gap 5)
    "LLAMA_NOTE12": ("Authorization: SSWS llama-ssws-Zq53", "llama-ssws-Zq53"),
    "GGML_CUDA_NOTE": ("Proxy-Authorization: Key ggml-key-Zq54", "ggml-key-Zq54"),
    "OLLAMA_NOTE": ("Authorization: Api-Key ollama-apikey-Zq55", "ollama-apikey-Zq55"),
    "MLX_NOTE": (
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/s3/aws4_"
        "request, SignedHeaders=host, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82",
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82",
    ),
    "VLLM_NOTE": (
        'Authorization: Digest username="u", realm="r", response="6629fae49393a05397450978"',
        "6629fae49393a05397450978",
    ),
    "NCCL_CONN": ("Server=db;Uid=me;Pwd=nccl-odbc-pw-Zq58;", "nccl-odbc-pw-Zq58"),
    # never allow-listed: must not appear anywhere either
    "AWS_SECRET_ACCESS_KEY": (AWS_SECRET, AWS_SECRET),
    "HF_TOKEN": ("hf-token-plain-Zq40", "hf-token-plain-Zq40"),
}

# OLLAMA_HOST variants, one capture each: (value, what must never appear).
OLLAMA_HOSTS = [
    ("ollamauser:ollama-host-pw-Zq41@127.0.0.1:9", "ollama-host-pw-Zq41"),
    ("http://user:p/ollama-host-slash-Zq42@gpu-box.example:11434", "ollama-host-slash-Zq42"),
    ("http://user:p@ollama-host-atat-Zq43@127.0.0.1:9", "ollama-host-atat-Zq43"),
]

# The command line of `envstamp run`: arguments and what must never appear.
RUN_SECRETS = {
    "--api-key": "run-api-key-Zq44",
    "--hf-token=": "run-hf-token-Zq45",
    "-H": "Authorization: Bearer run-bearer-Zq46",
    "--url": "http://runuser:run-url-pw-Zq47@127.0.0.1:8080",
    "HF_TOKEN=": "run-env-arg-Zq48",
    "--password": "run-password-Zq49",
    # credentials by meaning (issue 12 review, gap 6)
    "-u": "runuser:run-u-pw-Zq59",
    "--user=": "runuser:run-user-pw-Zq60",
    "-p": "run-p-attached-Zq61",  # attached: -prun-p-attached-Zq61
}
ATTACHED = frozenset({"-p"})
# `envstamp run -- sshpass -p X bench-tool`: the password of a tool that means one by -p
SSHPASS_SECRET = "run-sshpass-Zq62"
RUN_NEVER = [
    "run-api-key-Zq44", "run-hf-token-Zq45", "run-bearer-Zq46", "run-url-pw-Zq47",
    "run-env-arg-Zq48", "run-password-Zq49", "run-u-pw-Zq59", "run-user-pw-Zq60",
    "run-p-attached-Zq61", SSHPASS_SECRET,
]  # fmt: skip

GIT_REMOTES = [
    ("https://gituser:git-remote-pw-Zq50@example.org/llama.cpp.git", "git-remote-pw-Zq50"),
    (f"https://{GHP_REMOTE}@github.com/someone/llama.cpp.git", GHP_REMOTE),
]
OLLAMA_OUTPUT_SECRET = "ollama-output-pw-Zq52"

SECRETS = sorted(
    {
        *(secret for _, secret in PLANTED_ENV.values()),
        *(secret for _, secret in OLLAMA_HOSTS),
        *RUN_NEVER,
        *(secret for _, secret in GIT_REMOTES),
        OLLAMA_OUTPUT_SECRET,
    }
)


# ------------------------------------------------------------------------------ the world


def _tool(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _checkout(folder: Path, remote: str) -> Path:
    """A llama.cpp source checkout with a build folder, its origin holding credentials."""
    folder.mkdir(parents=True)
    (folder / "CMakeLists.txt").write_text("project(llama.cpp)\n")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=folder,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "CMakeLists.txt")
    git("commit", "-q", "-m", "init")
    git("remote", "add", "origin", remote)
    build = folder / "build"
    build.mkdir()
    (build / "CMakeCache.txt").write_text(
        f"CMAKE_HOME_DIRECTORY:INTERNAL={folder}\nCMAKE_BUILD_TYPE:STRING=Release\n"
    )
    _tool(build / "bin", "llama-cli", "echo 'version: 1 (abcdef0)'\necho 'built with cc for x'\n")
    return folder


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


class World:
    """Every output made under the planted environment, by name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.outputs: dict[str, str] = {}
        self.codes: dict[str, int] = {}

    def cli(self, label: str, *args: str) -> str:
        code, out, err = _cli(*args)
        self.codes[label] = code
        self.outputs[label] = out
        self.outputs[label + " (stderr)"] = err
        return out

    def file(self, label: str, path: Path) -> None:
        self.outputs[label] = path.read_text(encoding="utf-8")

    def recording(self, label: str, folder: Path) -> None:
        files = sorted(folder.iterdir())
        assert files, f"{label}: nothing recorded"
        self.outputs[label + " file names"] = "\n".join(p.name for p in files)
        for path in files:
            self.outputs[f"{label}/{path.name}"] = path.read_text(encoding="utf-8")


@contextlib.contextmanager
def _planted(root: Path) -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name not in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"):
                mp.delenv(name)
        bin_dir = root / "bin"
        mp.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
        mp.setenv("ENVSTAMP_CACHE_DIR", str(root / "cache"))
        mp.setenv("ENVSTAMP_CONFIG_DIR", str(root / "config"))
        for name, (value, _) in PLANTED_ENV.items():
            mp.setenv(name, value)
        runner.reset()
        try:
            yield mp
        finally:
            runner.reset()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("planted")
    found = World(root)
    bin_dir = root / "bin"
    _tool(
        bin_dir,
        "ollama",
        "echo 'ollama version is 0.5.1'\n"
        f"echo 'Warning: could not connect to http://u:{OLLAMA_OUTPUT_SECRET}@127.0.0.1:9' >&2\n",
    )
    _tool(bin_dir, "bench-tool", "echo 'prompt eval done'\n")
    _tool(bin_dir, "sshpass", 'shift 2; exec "$@"\n')  # sshpass -p X CMD...: runs CMD
    checkouts = [_checkout(root / f"llama{i}", url) for i, (url, _) in enumerate(GIT_REMOTES)]
    # Generous limits: on a loaded machine the git probe (GitPython's import, then git) can
    # outlast the defaults, and this test is about what is redacted, not about speed.
    builds = [arg for c in checkouts for arg in ("--llama-cpp", str(c))]
    builds += ["--timeout", "30", "--deadline", "60"]
    with _planted(root) as mp:
        for index, (host, _) in enumerate(OLLAMA_HOSTS):
            mp.setenv("OLLAMA_HOST", host)
            rec, manifest = root / f"rec{index}", root / f"m{index}.json"
            found.cli(f"capture --raw {index}", "capture", "--raw", str(rec), "--no-sign",
                      "-o", str(manifest), *builds)  # fmt: skip
            found.recording(f"recording {index}", rec)
            found.file(f"manifest {index}", manifest)
            found.cli(f"capture --markdown {index}", "capture", "--markdown", *builds)
            found.cli(f"show --markdown {index}", "show", "--markdown", str(manifest))
            found.cli(f"replay {index}", "capture", "--replay", str(rec), "--json", "--no-sign",
                      *builds)  # fmt: skip
        mp.setenv("OLLAMA_HOST", OLLAMA_HOSTS[0][0])
        signed = root / "signed.json"
        found.cli("capture signed", "capture", "-o", str(signed), *builds)
        found.file("signed envelope", signed)
        found.cli("capture --json", "capture", "--json", "--no-sign", *builds)
        found.cli("capture text", "capture", *builds)
        found.cli("show", "show", str(signed))
        found.cli("show --json", "show", "--json", str(signed))
        found.cli("diff --json", "diff", "--json", str(root / "m0.json"), str(root / "m1.json"))
        found.cli("diff --markdown", "diff", "--markdown", str(root / "m0.json"), str(signed))
        manifests = [str(root / f"m{i}.json") for i in range(len(OLLAMA_HOSTS))]
        found.cli("compare --json", "compare", "--json", *manifests)
        results = root / "r.jsonl"
        argv = [part for flag, value in RUN_SECRETS.items()
                for part in ([flag + value] if flag.endswith("=") or flag in ATTACHED
                             else [flag, value])]  # fmt: skip
        found.cli("run", "run", "--quiet", "-o", str(results), "--", "bench-tool", *argv)
        found.cli("run sshpass", "run", "--quiet", "-o", str(results), "--",
                  "sshpass", "-p", SSHPASS_SECRET, "bench-tool", "-p", "512")  # fmt: skip
        found.file("results log", results)
        found.cli("show results", "show", str(results))
        found.cli("show results --json", "show", "--json", str(results))
        found.cli("show results --markdown", "show", "--markdown", str(results))
    return found


# ---------------------------------------------------------------------------------- tests


def test_at_least_40_distinct_secrets_are_planted() -> None:
    assert len(SECRETS) >= 40
    for one in SECRETS:  # no secret hides inside another: each is searched on its own
        assert not [other for other in SECRETS if other != one and one in other]


def test_every_command_succeeded(world: World) -> None:
    assert world.codes, "nothing ran"
    failed = {label: code for label, code in world.codes.items() if code != 0}
    assert not failed, {label: world.outputs[label + " (stderr)"][-300:] for label in failed}


def test_no_secret_leaks_into_any_output_or_recording(world: World) -> None:
    leaks = [
        f"{secret} in {label}"
        for label, text in world.outputs.items()
        for secret in SECRETS
        if secret in text
    ]
    assert not leaks, leaks


def test_the_planted_things_were_seen(world: World) -> None:
    """The outputs searched above hold the places the secrets were planted, redacted."""
    manifest = world.outputs["manifest 0"]
    for kept in ("OLLAMA_ORIGINS", "app.example.com", "GGML_REMOTE_URL", "api_key=" + REDACTED,
                 "example.org/llama.cpp.git", "github.com/someone/llama.cpp.git"):  # fmt: skip
        assert kept in manifest, kept
    for gone in ("MLX_PASSPHRASE", "OLLAMA_PASS\"", "VLLM_PWD", "ZES_PW", "PYTORCH_BEARER"):
        assert gone not in manifest, gone  # a secret-looking name is dropped altogether
    assert "gpu-box.example:11434" in world.outputs["manifest 1"]  # the host, not its password
    results = world.outputs["results log"]
    assert '"--api-key"' in results and REDACTED in results
    # sshpass's password went, the -p 512 of the command it ran stayed
    assert f'["sshpass","-p","{REDACTED}","bench-tool","-p","512"]' in results
    recorded = "\n".join(t for label, t in world.outputs.items() if label.startswith("recording 0"))
    assert "127.0.0.1:9" in recorded  # OLLAMA_HOST was recorded, without its credentials
    assert "ollama version is 0.5.1" in recorded  # the fake ollama's output was recorded


def test_a_recording_replays_to_the_manifest_it_recorded(world: World) -> None:
    import json

    for index in range(len(OLLAMA_HOSTS)):
        recorded = json.loads(world.outputs[f"manifest {index}"])
        replayed = json.loads(world.outputs[f"replay {index}"])
        for section in ("env", "llamacpp", "frontends"):
            assert replayed[section] == recorded[section], section
