"""Record a real server's exchanges for the bench tests (not a test; run by hand).

    python -m tests.benchclient.record_fixtures URL API FOLDER

Runs a small bench plan (prompt 32 and generation 8 tokens, 2 repetitions, concurrency 1
and 2, one warm-up) through a RecordingRunner: every HTTP exchange, timed line by line,
lands in FOLDER as the runner records any answer.  Start the server from the model's folder
with a relative ``-m`` so that no path of the recording machine is recorded.
"""

from __future__ import annotations

import sys

from envstamp.benchclient import session
from envstamp.runner import RecordingRunner

PLAN = {"prompt_tokens": (32,), "gen_tokens": (8,), "repetitions": 2, "warmup": 1,
        "concurrency": (1, 2), "seed": 7}


def main(argv: list[str]) -> int:
    url, api, folder = argv
    runner = RecordingRunner(folder)
    plan = session.BenchPlan(url=url, api=api, **PLAN)  # type: ignore[arg-type]
    prepared = session.prepare(plan, runner)
    if prepared.failure:
        print(prepared.failure)
        return 1
    levels = list(session.measure(prepared, runner))
    for level in levels:
        print(level.name, level.concurrency, [r.failure for r in level.requests])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
