"""A real llama-server on a loopback port, for the end-to-end tests and the TTFT benchmark:
started on a model, waited for until ``/health`` answers, and stopped however the block ends."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


class LlamaServerError(RuntimeError):
    """llama-server exited, or did not answer ``/health`` in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def llama_server(
    binary: Path, model: Path, cwd: Path, output: IO[bytes] | int = subprocess.DEVNULL
) -> Iterator[str]:
    """The base URL of ``binary -m model`` (two threads) once it is healthy; stopped after.

    Give ``model`` absolute: ``/props`` names the path as the server was given it, and a
    relative one would name a file in the server's folder."""
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "-m", str(model), "--port", str(port), "-t", "2"],
        cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(url: str, process: subprocess.Popen[Any], seconds: float = 30.0) -> None:
    """Until ``url``/health answers 200 (LlamaServerError if ``process`` exits first or
    ``seconds`` pass)."""
    for _ in range(int(seconds * 10)):
        if process.poll() is not None:
            raise LlamaServerError(f"llama-server exited {process.returncode} before it answered")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise LlamaServerError(f"llama-server did not become healthy within {seconds:g} s")
