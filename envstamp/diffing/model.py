"""The typed result of a diff: differences, inputs, per-test speed, the report.

``schemas/diff.v1.schema.json`` is generated from these classes.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from envstamp.diffing.rules import IMPACT_RANK, Impact

DIFF_SCHEMA_NAME = "envstamp.diff"
DIFF_SCHEMA_MAJOR = 1
DIFF_SCHEMA_ID = f"{DIFF_SCHEMA_NAME}/{DIFF_SCHEMA_MAJOR}"

Verification = Literal["verified", "unsigned", "not verified", "failed"]


def doc_field(text: str, default: Any = attrs.NOTHING) -> Any:
    """An attrs field carrying its description (the schema generator reads it)."""
    return attrs.field(default=default, metadata={"doc": text})


def _doc(text: str) -> Any:
    return doc_field(text)


def _opt(text: str, default: Any = None) -> Any:
    return doc_field(text, default)


@attrs.define(kw_only=True)
class Difference:
    """One path whose values differ, with its rank and the reason users see."""

    path: str = _doc(
        'Where, as "gpus[0].driver_version"; a list item is named by its position when both '
        'sides agree on it, else by the key that matched it ("gpus[uuid=GPU-...]").'
    )
    pattern: str = _doc('The generic path the rule matched, as "gpus[].driver_version".')
    category: str = _doc("gpu, driver, runtime, engine build, frontend, model, cpu, ...")
    impact: Impact = _doc("Expected impact on inference speed: high, medium, low or none.")
    label: str = _doc("What changed, in words.")
    component: str = _doc('Group of paths that change together ("GPU driver").')
    a: Any = _doc("Value on side A (null: unknown or absent).")
    b: Any = _doc("Value on side B (null: unknown or absent).")
    change: str = _doc('The change as users read it: "550.54 -> 560.35", "only on B: avx512f".')
    reason: str = _doc("One-line explanation.")
    state: bool = _opt("A reading of the moment: explains a gap, never blocks a comparison.",
                       False)
    under: str | None = _opt(
        "Path of the finding this one sits beneath (a build option under its build change); "
        "null for a finding of its own. Counted once, with the finding it sits under."
    )


@attrs.define(kw_only=True)
class InputInfo:
    """One input of a diff and how far it can be trusted."""

    side: str = _doc('"A" or "B" (or the position in a compare).')
    source: str = _doc("The path given.")
    kind: str = _doc("manifest, envelope or results.")
    note: str = _doc("How the input reached us, in words.")
    verification: Verification = _doc("verified, unsigned, not verified or failed.")
    signature: str = _doc("The verification result as the loader reported it.")
    signers: list[str] = attrs.field(factory=list, metadata={"doc": "Key ids that signed it."})
    captured_at: str | None = _opt("When the manifest was captured.")
    identity_digest: str | None = _opt("The manifest's identity digest.")
    manifest_schema: str | None = _opt("The manifest's schema id.")
    results: int = _opt("Result records in the input.", 0)


@attrs.define(kw_only=True)
class Spread:
    """A metric's summary on one side."""

    mean: float = _doc("Mean.")
    stddev: float | None = _opt("Standard deviation; null when unknown (one sample).")
    n: int | None = _opt("Number of samples.")
    unit: str | None = _opt('Unit, e.g. "t/s" or "s".')


@attrs.define(kw_only=True)
class TestComparison:
    """One benchmark test matched across the two sides."""

    name: str = _doc('Test name ("tg128", "pp512").')
    params: dict[str, Any] = attrs.field(
        factory=dict, metadata={"doc": "Parameters both sides share."}
    )
    metric: str = _doc('The metric compared ("tokens_per_s", "wall_s").')
    higher_is_better: bool = _doc("True for throughput, false for time.")
    a: Spread | None = _opt("Side A, null when only B ran it.")
    b: Spread | None = _opt("Side B, null when only A ran it.")
    ratio: float | None = _opt("How many times faster B is than A (below 1: slower).")
    faster: Literal["A", "B"] | None = _opt(
        '"A", "B", or null when equal, within noise or one-sided.'
    )
    within_noise: bool | None = _opt("The gap is inside the spread; null when unknown.")
    context: bool = _opt(
        "The wrapper's own whole-process wall time (envstamp run, model load included) of a "
        "command that also printed its own results: context, never the headline.",
        False,
    )
    setup_a: int | None = _opt(
        "Which of A's setups ran it (1-based), when A's log holds several; else null."
    )
    setup_b: int | None = _opt(
        "Which of B's setups ran it (1-based), when B's log holds several; else null."
    )
    unsigned: bool = _opt(
        "Results that no signed head vouches for (their log was checked): compared only "
        "with unsigned ones, never pooled with signed results, never the headline while "
        "signed results compare.",
        False,
    )
    summary: str = _opt("One line.", "")


@attrs.define(kw_only=True)
class FailedRun:
    """A result whose command failed: its timings are not speeds, so it is listed apart."""

    side: str = _doc('"A" or "B" (or the input\'s position in a compare).')
    name: str = _doc("Test or command name.")
    params: dict[str, Any] = attrs.field(factory=dict, metadata={"doc": "Its parameters."})
    exit_code: int | None = attrs.field(
        default=None,
        # Negative where Python reported a signal (-4: SIGILL): the schema admits it.
        metadata={"doc": "Exit code, where known.", "signed": True},
    )
    exit_signal: str | None = _opt('The signal that ended it ("SIGILL"), where known.')
    setup: int | None = _opt("Which setup of its log it ran under, when the log holds several.")
    summary: str = _opt('"failed: exit 132 (SIGILL)".', "")


@attrs.define(kw_only=True)
class Setup:
    """One setup (a distinct manifest) of a results log that holds several."""

    side: str = _doc('"A" or "B" (or the input\'s position in a compare).')
    index: int = _doc("1-based, in the order the log first used it.")
    identity_digest: str | None = _opt("Identity digest of its manifest.")
    captured_at: str | None = _opt("When its (first) manifest was captured.")
    results: int = _opt("Results run under it (failed ones included).", 0)
    changes: list[str] = attrs.field(
        factory=list,
        metadata={"doc": 'What differs from setup 1 of the same log, as "env.OMP_NUM_THREADS: '
                         'unset -> 3" (settings that may change speed).'},
    )
    paired_with: list[int] = attrs.field(
        factory=list,
        metadata={"doc": "The other side's setups whose results are compared with it."},
    )


@attrs.define(kw_only=True)
class DiffReport:
    """Everything ``envstamp diff`` knows about two inputs."""

    schema: str = _opt('"envstamp.diff/1".', DIFF_SCHEMA_ID)
    a: InputInfo | None = _opt("Side A.")
    b: InputInfo | None = _opt("Side B.")
    headline: str = _opt("The one-line answer.", "")
    same_identity: bool = _opt("No identity or configuration difference above impact none.",
                               True)
    same_digest: bool = _opt("The identity digests are equal.", False)
    max_impact: Impact = _opt("Highest impact among the differences (none when there are none).",
                           "none")
    counts: dict[str, int] = attrs.field(
        factory=dict,
        metadata={"doc": "Differences per impact, each thing said once (a driver version "
                         "found in two sections counts once)."},
    )
    tests: list[TestComparison] = attrs.field(
        factory=list, metadata={"doc": "Speed per test, when results are on both sides."}
    )
    likely_causes: list[str] = attrs.field(
        factory=list, metadata={"doc": "The top differences (and states) that may explain it."}
    )
    differences: list[Difference] = attrs.field(
        factory=list, metadata={"doc": "Identity and configuration differences, ranked."}
    )
    state: list[Difference] = attrs.field(
        factory=list, metadata={"doc": "State at capture that differs, ranked."}
    )
    unknown: list[Difference] = attrs.field(
        factory=list, metadata={"doc": "Fields known on one side only."}
    )
    failed: list[FailedRun] = attrs.field(
        factory=list,
        metadata={"doc": "Results whose command failed: never compared as speeds."},
    )
    setups: list[Setup] = attrs.field(
        factory=list,
        metadata={"doc": "The setups of each side, listed when a side's log holds several."},
    )
    setup_a: int | None = _opt(
        "When A's log holds several setups: which one (1-based) the differences, state, "
        "unknown fields and likely causes compare with B (the one behind the headline's "
        "speed gap, else the first compared); null when A holds one."
    )
    setup_b: int | None = _opt(
        "When B's log holds several setups: which one (1-based) the differences, state, "
        "unknown fields and likely causes compare with A; null when B holds one."
    )

    def at_or_above(self, impact: str, *, include_state: bool = False) -> list[Difference]:
        """Differences whose impact is ``impact`` or higher."""
        floor = IMPACT_RANK[impact]
        pool = self.differences + (self.state if include_state else [])
        return [d for d in pool if IMPACT_RANK[d.impact] >= floor]


def diff_schema() -> dict[str, Any]:
    """JSON Schema of ``envstamp diff --json``."""
    from envstamp.manifest.schema import schema_for

    return schema_for(
        DiffReport,
        schema_id=f"diff.v{DIFF_SCHEMA_MAJOR}.schema.json",
        title="envstamp diff report",
        patterns={"schema": f"^{DIFF_SCHEMA_NAME.replace('.', '[.]')}/{DIFF_SCHEMA_MAJOR}$"},
    )
