"""What every kind of access shares: the answer type, limits, lenient decoding, timeouts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal

from envstamp.manifest.records import FrozenRecord, frozen_record

AnswerStatus = Literal["ok", "absent", "permission", "timeout", "error", "unsupported"]
Answer = dict[str, Any]

DEFAULT_COMMAND_TIMEOUT = 2.0
MAX_OUTPUT_BYTES = 8 << 20
MAX_FILE_BYTES = 4 << 20
CHILD_ENV_OVERRIDES = {"LC_ALL": "C", "LANG": "C", "NO_COLOR": "1", "TERM": "dumb"}


def decode(data: bytes) -> str:
    """Bytes -> text, never raising: UTF-8 with replacement, NULs dropped, CRLF folded."""
    text = data[:MAX_OUTPUT_BYTES].decode("utf-8", errors="replace")
    return text.replace("\x00", "").replace("\r\n", "\n")


def call_with_timeout(fn: Callable[[], Answer], timeout: float, what: str) -> Answer:
    """Run ``fn`` in a daemon thread; give up waiting after ``timeout`` seconds."""
    box: list[Answer] = []

    def target() -> None:
        try:
            box.append(fn())
        except Exception as exc:  # noqa: BLE001 - a library's failure is data
            box.append({"status": "error", "detail": f"{what}: {type(exc).__name__}: {exc}"})

    thread = threading.Thread(target=target, name=f"envstamp-{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if not box:
        return {"status": "timeout", "detail": f"{what} gave no answer within {timeout:g} s"}
    return box[0]


@frozen_record
class NvmlCall(FrozenRecord):
    """One NVML function call: ``fn(handle_of(index), *args)``, or ``fn(*args)`` without index."""

    fn: str
    index: int | None = None
    args: tuple[Any, ...] = ()
