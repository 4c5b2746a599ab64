"""What every kind of access shares: the answer type, limits, lenient decoding, timeouts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import attrs

from envstamp.manifest.records import FrozenRecord

if TYPE_CHECKING:
    from envstamp.runner.answer_types import Failure

AnswerStatus = Literal["ok", "absent", "permission", "timeout", "error", "unsupported"]

# A recorded answer of any operation, as JSON read back from a recording: its fields depend
# on the operation (``answer_types`` has one TypedDict per operation).
Answer = dict[str, Any]

# A question as a recording keys it: ``{"argv": [...]}``, ``{"path": "..."}``...
Key = dict[str, object]

StatusAnswer = TypeVar("StatusAnswer", bound="Failure")

DEFAULT_COMMAND_TIMEOUT = 2.0
MAX_OUTPUT_BYTES = 8 << 20
MAX_FILE_BYTES = 4 << 20
CHILD_ENV_OVERRIDES = {"LC_ALL": "C", "LANG": "C", "NO_COLOR": "1", "TERM": "dumb"}


def decode(data: bytes) -> str:
    """Bytes -> text, never raising: UTF-8 with replacement, NULs dropped, CRLF folded."""
    text = data[:MAX_OUTPUT_BYTES].decode("utf-8", errors="replace")
    return text.replace("\x00", "").replace("\r\n", "\n")


def call_with_timeout(
    fn: Callable[[], StatusAnswer], timeout: float, what: str
) -> StatusAnswer:
    """Run ``fn`` in a daemon thread; give up waiting after ``timeout`` seconds.

    The failures it answers itself hold a status and a detail and leave the rest out, which
    an answer of every operation that carries a status may do (hence the casts: the checker
    cannot see that through the type variable)."""
    box: list[StatusAnswer] = []

    def target() -> None:
        try:
            box.append(fn())
        except Exception as exc:  # noqa: BLE001 - a library's failure is data
            detail = f"{what}: {type(exc).__name__}: {exc}"
            box.append(cast(StatusAnswer, {"status": "error", "detail": detail}))

    thread = threading.Thread(target=target, name=f"envstamp-{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if not box:
        detail = f"{what} gave no answer within {timeout:g} s"
        return cast(StatusAnswer, {"status": "timeout", "detail": detail})
    return box[0]


@attrs.frozen(eq=False, repr=False)
class NvmlCall(FrozenRecord):
    """One NVML function call: ``fn(handle_of(index), *args)``, or ``fn(*args)`` without index."""

    fn: str
    index: int | None = None
    args: tuple[int, ...] = ()  # NVML's enum constants (a clock type, a temperature sensor)
