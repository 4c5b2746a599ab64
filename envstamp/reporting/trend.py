"""``envstamp trend``: which llama.cpp build made a test slower.

Results are grouped by the setup they ran under (``diffing.setups``: a new build is a new
setup), and the setups - the *points* of the trend - are ordered by the llama.cpp build that
ran: by build number when every point knows its build's number, else by capture time; equal
builds by capture time, then by the order of the inputs.  Consecutive points are compared as
``envstamp diff`` compares two logs (tests matched by name and parameters, repetitions
pooled into mean and standard deviation), and a test's step is *flagged* when, asv-style,

* its speed moved by at least ``factor`` (either way: new/old >= factor or <= 1/factor), and
* the two spreads do not overlap: the gap between the means is larger than the sum of the two
  standard deviations (``diffing.results.within_noise``).  Where a spread is unknown (one
  sample) the factor alone decides, and the step says so.

Each flagged step names what changed in the manifest between its two points, ranked as
``diff`` ranks it (the build first), and the benchmark parameters that changed.  The
wrapper's whole-process time (``envstamp run``'s own result beside the benchmark's) is
context, never trended."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any, Literal

import attrs

from envstamp.diffing.model import Difference, FailedRun, Spread, TestComparison

DEFAULT_FACTOR = 1.10
MAX_CHANGES = 5
TREND_SCHEMA = "envstamp.trend/1"

Order = Literal["build number", "capture time"]


@attrs.define
class Point:
    """One setup in the trend: a llama.cpp build (and machine) and its results."""

    index: int  # 1-based, in trend order
    build: str  # "b5308 (commit 8733e0cf6eef)", "unknown"
    build_number: int | None
    commit: str | None
    version: str | None
    captured_at: str | None
    identity_digest: str | None
    sources: list[str]
    results: int
    manifest: Any = attrs.field(eq=False, repr=False)
    records: list[Any] = attrs.field(factory=list, eq=False, repr=False)


@attrs.define
class Step:
    """One test between two consecutive points where it ran."""

    test: str  # "tg128", or "pp512 n_gpu_layers=99" where one point ran several
    metric: str
    unit: str | None
    before: int  # point index
    after: int
    a: Spread
    b: Spread
    speedup: float  # how many times faster the later point is (below 1: slower)
    within_noise: bool | None  # None: a spread is unknown
    flagged: bool
    changes: list[str] = attrs.field(factory=list)  # what changed at that step, top first

    @property
    def slower(self) -> bool:
        return self.speedup < 1

    @property
    def factor(self) -> float:
        """How many times slower or faster (always >= 1)."""
        return 1 / self.speedup if self.slower else self.speedup

    @property
    def phrase(self) -> str:
        return f"{self.factor:.2f}x {'slower' if self.slower else 'faster'}"


@attrs.define
class Series:
    """One test's spread at each point (None where it did not run)."""

    test: str
    metric: str
    unit: str | None
    higher_is_better: bool
    values: list[Spread | None]


@attrs.define
class Trend:
    order: Order
    factor: float
    points: list[Point] = attrs.field(factory=list)
    series: list[Series] = attrs.field(factory=list)
    steps: list[Step] = attrs.field(factory=list)  # every step compared; flagged ones marked
    failed: list[FailedRun] = attrs.field(factory=list)  # side: "point N"

    @property
    def flagged(self) -> list[Step]:
        return [s for s in self.steps if s.flagged]

    def slowdowns(self, at_least: float) -> list[Step]:
        """Slowdowns of at least ``at_least`` times whose spreads do not overlap (or are
        unknown): what ``--fail-on`` fails on."""
        return [s for s in self.steps
                if s.slower and s.within_noise is not True and s.factor >= at_least]  # fmt: skip


# ---------------------------------------------------------------------------- analysis


def trend_of_logs(paths: Sequence[str], *, factor: float = DEFAULT_FACTOR) -> Trend:
    """The trend of results logs, each verified as it loads (a tampered log is refused)."""
    from envstamp.stamping.results import load_results

    records: list[Any] = []
    source_of: dict[int, str] = {}
    for path in paths:
        loaded = load_results(path, require_signed=False, include_failed=True)
        records.extend(loaded)
        name = PurePath(path).name or path
        source_of.update((id(r), name) for r in loaded)
    return trend_of(records, source_of, factor=factor)


def trend_of(
    records: Sequence[Any], source_of: dict[int, str], *, factor: float = DEFAULT_FACTOR
) -> Trend:
    """The trend of loaded results (each with its ``.manifest``)."""
    from envstamp.diffing.setups import group_setups

    if factor <= 1:
        from envstamp.errors import InputError

        raise InputError(f"the factor must be above 1, got {factor:g}")
    points = [point_of(g, source_of) for g in group_setups(records)]
    order: Order = "build number"
    if all(p.build_number is not None for p in points):
        points.sort(key=lambda p: (p.build_number, p.captured_at or "", p.index))
    else:
        order = "capture time"
        points.sort(key=lambda p: (p.captured_at or "", p.index))
    for number, point in enumerate(points, start=1):
        point.index = number
    trend = Trend(order=order, factor=factor, points=points)
    _compare_points(trend)
    return trend


def point_of(group: Any, source_of: dict[int, str]) -> Point:
    from envstamp.diffing.builds import build_summary, describe_build
    from envstamp.exporting.table import build_that_ran

    manifest = group.manifest
    ran = next((r for r in group.results if getattr(r, "command", None)), group.results[0])
    build = build_that_ran(manifest, ran)
    summary = build_summary(build) if build is not None else {}
    return Point(
        index=group.index,
        build=describe_build(summary) if build is not None else "unknown",
        build_number=summary.get("build_number"),
        commit=summary.get("commit"),
        version=summary.get("version"),
        captured_at=manifest.captured_at,
        identity_digest=manifest.identity_digest,
        sources=list(dict.fromkeys(source_of.get(id(r), "?") for r in group.results)),
        results=len(group.results),
        manifest=manifest,
        records=list(group.results),
    )


def _compare_points(trend: Trend) -> None:
    from envstamp.diffing.results import compare_sides, read_side

    sides = [read_side(p.records, f"point {p.index}") for p in trend.points]
    for side in sides:
        trend.failed.extend(side.failed)
    series: dict[str, Series] = {}
    count = len(trend.points)
    for i in range(count - 1):
        before, after = trend.points[i], trend.points[i + 1]
        compared = compare_sides(_own(sides[i]), _own(sides[i + 1]))
        tests = [t for t in compared.tests if not t.context]
        changes: list[str] | None = None
        for label, test in zip(_labels(tests), tests, strict=True):
            found = series.get(label)
            if found is None:
                either = test.a or test.b
                unit = either.unit if either is not None else None
                found = series[label] = Series(label, test.metric, unit, test.higher_is_better,
                                               [None] * count)  # fmt: skip
            if test.a is not None and found.values[i] is None:
                found.values[i] = test.a
            if test.b is not None:
                found.values[i + 1] = test.b
            if test.a is None or test.b is None or not test.ratio:
                continue
            flagged = _beyond(test.ratio, trend.factor) and test.within_noise is not True
            if changes is None:
                changes = step_changes(before, after, compared.differences)
            trend.steps.append(Step(
                test=label, metric=test.metric, unit=test.a.unit, before=before.index,
                after=after.index, a=test.a, b=test.b, speedup=test.ratio,
                within_noise=test.within_noise, flagged=flagged, changes=changes,
            ))  # fmt: skip
    if count == 1:  # one point: its values, no step
        # the point compared with itself: its tests pooled and labelled as at any step
        compared = compare_sides(_own(sides[0]), _own(sides[0]))
        tests = [t for t in compared.tests if not t.context]
        for label, test in zip(_labels(tests), tests, strict=True):
            unit = test.a.unit if test.a else None
            series[label] = Series(label, test.metric, unit, test.higher_is_better, [test.a])
    trend.series = list(series.values())


def _own(side: Any) -> Any:
    """A side's views without its failed runs (listed once, apart)."""
    from envstamp.diffing.results import SideResults

    return SideResults(views=side.views)


def _beyond(speedup: float, factor: float) -> bool:
    return speedup >= factor or speedup <= 1 / factor


def _labels(tests: Sequence[TestComparison]) -> list[str]:
    """Each test's name, with the parameters that tell it from same-named tests of the step
    ("pp512 n_gpu_layers=99"), and "[unsigned]" for results no signed head covers."""
    labels = []
    for test in tests:
        same = [t.params for t in tests if t.name == test.name and t.unsigned == test.unsigned]
        label = test.name
        if len(same) > 1:
            keys = sorted({k for p in same for k in p})
            varying = [k for k in keys if len({_text(p.get(k)) for p in same}) > 1]
            label += "".join(f" {k}={_text(test.params.get(k))}" for k in varying)
        labels.append(f"{label} [unsigned]" if test.unsigned else label)
    return labels


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def step_changes(before: Point, after: Point, params: Sequence[Difference]) -> list[str]:
    """What changed between two points, ranked as ``diff`` ranks it, one entry per component
    (the build first); the benchmark's parameter changes among them.  When nothing that may
    change speed differs, the low-impact changes; never more than MAX_CHANGES."""
    from envstamp.diffing.manifests import diff_manifests, distinct, rank_key

    walk = diff_manifests(before.manifest, after.manifest)
    # A build known on one side only (built without git: no commit, no version) is no
    # difference to diff, but it is the step's build change as far as anyone can tell.
    builds = [d for d in walk.unknown if d.category == "engine build" and d.under is None]
    identity = distinct(sorted([d for d in walk.found if not d.state] + builds + list(params),
                               key=rank_key))  # fmt: skip
    state = distinct(sorted((d for d in walk.found if d.state), key=rank_key))
    names = (f"point {before.index}", f"point {after.index}")
    picked: list[str] = []
    seen: set[str] = set()
    for pool, prefix, allowed in (
        (identity, "", ("high", "medium")),
        (state, "at capture: ", ("high", "medium")),
        (identity, "", ("low",)),
    ):
        # a reading of the moment beside identity changes only when it is a strong one
        impacts = ("high",) if pool is state and picked else allowed
        if impacts == ("low",) and picked:
            break
        for d in pool:
            if d.impact in impacts and d.component + prefix not in seen:
                seen.add(d.component + prefix)
                picked.append(prefix + _named(f"{d.label}: {d.change}", names))
    return picked[:MAX_CHANGES]


def _named(text: str, names: tuple[str, str]) -> str:
    """diff's A and B as the two points: "unknown on A: commit; B: commit 0c1e57098" ->
    "unknown in point 1: commit; point 2: commit 0c1e57098"."""
    import re

    from envstamp.diffing.setups import name_sides

    text = name_sides(text, names)
    return re.sub(r"(?<=; )([AB]): ", lambda m: f"{names[m.group(1) == 'B']}: ", text)
