"""``rec.timer``: a real method, one Timer class whatever it watches, per-region overrides."""

from __future__ import annotations

import inspect
import pydoc
import re
from pathlib import Path

from envstamp.manifest.model import Volatile
from envstamp.stamping.results import load_results
from envstamp.stamping.timing import STATE, Recorder, Timer
from tests.timing_support import open_recorder


def test_rec_timer_is_a_method_with_its_own_signature(tmp_path: Path) -> None:
    with open_recorder(tmp_path / "r.jsonl") as rec:
        assert inspect.ismethod(rec.timer) and rec.timer.__func__ is Recorder.timer
        parameters = inspect.signature(rec.timer).parameters
        assert [(p.name, p.kind) for p in parameters.values()] == [
            ("name", inspect.Parameter.POSITIONAL_ONLY),
            ("state", inspect.Parameter.KEYWORD_ONLY),
            ("memory", inspect.Parameter.KEYWORD_ONLY),
            ("params", inspect.Parameter.VAR_KEYWORD),
        ]
        shown = pydoc.plain(pydoc.render_doc(rec.timer))
        # Python 3.13's pydoc wraps a long signature over lines; compare it with spaces folded
        folded = re.sub(r"\s+", " ", shown).replace("( ", "(")
        assert "timer(name: 'str', /, *, state: 'bool | None' = None," in folded
        assert "override this recorder's settings" in shown


def test_a_watched_and_a_plain_region_are_one_class(tmp_path: Path) -> None:
    with open_recorder(tmp_path / "r.jsonl", state=True) as rec:
        rec._read_state = lambda: Volatile(load_1m=0.25)  # type: ignore[method-assign]
        with rec.timer("watched") as watched:
            pass
        with rec.timer("plain", state=False) as plain:
            pass
    assert type(watched) is Timer and type(plain) is Timer
    assert watched.flags == STATE and plain.flags == 0
    by_name = {r.name: r for r in load_results(rec.path)}
    assert by_name["watched"].state_before == Volatile(load_1m=0.25)
    assert by_name["plain"].state_before is None and by_name["plain"].state_after is None


def test_a_region_can_watch_what_its_recorder_does_not(tmp_path: Path) -> None:
    with open_recorder(tmp_path / "r.jsonl", state=False) as rec:
        rec._read_state = lambda: Volatile(load_1m=0.5)  # type: ignore[method-assign]
        with rec.timer("asked", state=True, n_ctx=512) as t:
            pass
    assert t.result is not None and t.result.state_after == Volatile(load_1m=0.5)
    # state= and memory= choose what is watched; they are no parameters of the result
    assert t.result.params == {"n_ctx": 512}


def test_a_region_nobody_reads_more_of_builds_only_the_timer(tmp_path: Path) -> None:
    # What earns TimerExtras its place (docs/decisions.md): a plain region in a tight loop
    # allocates no metrics dict nor any other extra until something asks for one.
    with open_recorder(tmp_path / "r.jsonl", buffer=10) as rec:
        with rec.timer("tight") as t:
            pass
        assert t._more is None
        unwritten, origin = t.result, t.origin
        assert unwritten is None and origin == "timer" and t._more is None
        with rec.timer("measured") as m:
            m.metrics["tokens_per_s"] = 12.5
        assert m._more is not None and m._more.metrics == {"tokens_per_s": 12.5}
    written = t.result
    assert written is not None and written.metrics == {}
    assert m.result is not None and m.result.metrics == {"tokens_per_s": 12.5}
