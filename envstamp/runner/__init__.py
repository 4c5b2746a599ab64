"""The only code that touches the system: commands, files, environment, loopback HTTP, NVML.

Probes ask a :class:`Runner` for what they need and parse the answers with pure functions.
Every answer is plain JSON-able data, so it can be recorded to a folder and replayed:

* :class:`LiveRunner` asks the system;
* :class:`RecordingRunner` asks the system and writes every answer to a folder;
* :class:`ReplayRunner` answers from such a folder and refuses anything not recorded.

Nothing here raises for a missing tool, a hung command, garbage output or a permission error:
each answer carries a status (ok, absent, permission, timeout, error) and a detail.

One module per kind of access, each imported only when first needed (a capture on Linux that
reads files only never imports ``subprocess``):

* ``answers`` - the answer type, limits, lenient decoding, timeouts;
* ``base`` - the runner classes, typed answers, record/replay format;
* ``commands`` - external commands (no shell, timeouts, process groups);
* ``files`` - reading files and folders, hashing, atomic writes;
* ``system`` - platform facts, installed distributions, registry, memory and power calls;
* ``network`` - loopback HTTP;  ``nvml`` - NVML;  ``libraries`` - GitPython, py-cpuinfo, GPUtil;
* ``caches`` - the on-disk static and hash caches, and :func:`reset`, which every
  module-level cache registers with.
"""

from __future__ import annotations

from envstamp.runner.answers import (
    DEFAULT_COMMAND_TIMEOUT,
    MAX_FILE_BYTES,
    Answer,
    AnswerStatus,
    NvmlCall,
    call_with_timeout,
    decode,
)
from envstamp.runner.base import (
    CommandResult,
    FileResult,
    HttpResult,
    LiveRunner,
    NotRecorded,
    NvmlResult,
    RecordingRunner,
    ReplayRunner,
    Runner,
    StatResult,
    answer_file_name,
    answer_key,
    load_recording,
    make_runner,
)
from envstamp.runner.caches import reset
from envstamp.runner.files import read_text_answer, write_atomic
from envstamp.runner.hashing import sha256_answer
from envstamp.runner.system import installed_distributions, normalize_distribution

__all__ = [
    "DEFAULT_COMMAND_TIMEOUT",
    "MAX_FILE_BYTES",
    "Answer",
    "AnswerStatus",
    "CommandResult",
    "FileResult",
    "HttpResult",
    "LiveRunner",
    "NotRecorded",
    "NvmlCall",
    "NvmlResult",
    "RecordingRunner",
    "ReplayRunner",
    "Runner",
    "StatResult",
    "answer_file_name",
    "answer_key",
    "call_with_timeout",
    "decode",
    "installed_distributions",
    "load_recording",
    "make_runner",
    "normalize_distribution",
    "read_text_answer",
    "reset",
    "sha256_answer",
    "write_atomic",
]
