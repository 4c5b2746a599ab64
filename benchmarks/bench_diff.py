"""Diff speed (issue 7 targets), as ratios against baselines measured in the same run.

    python benchmarks/bench_diff.py [--repeat N] [--manifests N]

* ``envstamp diff A B`` as a whole process (two differing manifests, text output) and with
  ``--json``, against ``python -m pyperf collect_metadata`` (target: ratio <= 1.0), with
  ``python -c "import attrs, cattrs"`` alongside to show the floor every envstamp verb pays;
* ``envstamp compare`` over 1,000 manifests as a whole process, and the library's
  ``compare()`` over the same files in-process (target: under 2 s);
* ``diff()`` of two loaded manifests in-process, per call.

The manifests are variants of the diff tests' workstation fixture written to a temporary
folder: driver, power limit and llama.cpp build vary between them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _harness import PY, interleaved, report, run_quiet

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "tests" / "fixtures" / "diff"
A = FIXTURES / "workstation-b3447.json"
B = FIXTURES / "render-node-b4589.json"


def write_variants(folder: Path, count: int) -> list[str]:
    """``count`` manifests: the workstation with a few identity fields varied."""
    import attrs

    from envstamp.manifest.serialize import manifest_from_json, to_json

    base = manifest_from_json(A.read_bytes())
    drivers = ["550.54.14", "555.42.06", "560.35.03", "565.57.01"]
    paths = []
    for i in range(count):
        gpu = attrs.evolve(base.gpus[0], driver_version=drivers[i % 4],
                           power_limit_w=450.0 if i % 7 else 350.0)
        build = attrs.evolve(base.llamacpp[0], build_number=3447 + i % 13)
        manifest = attrs.evolve(base, gpus=[gpu], llamacpp=[build])
        path = folder / f"m{i:04d}.json"
        path.write_text(to_json(manifest), encoding="utf-8")
        paths.append(str(path))
    return paths


def in_process_compare(paths: list[str]) -> float:
    from envstamp.diffing.compare import compare

    start = time.perf_counter()
    compare(paths)
    return time.perf_counter() - start


def in_process_diff(n: int) -> float:
    from envstamp.diffing.differ import diff
    from envstamp.documents import load_document

    a, b = load_document(str(A)), load_document(str(B))
    diff(a, b)
    start = time.perf_counter()
    for _ in range(n):
        diff(a, b)
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--manifests", type=int, default=1000)
    args = parser.parse_args()
    envstamp = [PY, "-m", "envstamp", "diff", str(A), str(B)]
    samples = interleaved(
        {
            "python -m pyperf collect_metadata": lambda: run_quiet(
                [PY, "-m", "pyperf", "collect_metadata"]
            ),
            "envstamp diff A B": lambda: run_quiet(envstamp),
            "envstamp diff A B --json": lambda: run_quiet([*envstamp, "--json"]),
            'python -c "import attrs, cattrs"': lambda: run_quiet(
                [PY, "-c", "import attrs, cattrs"]
            ),
        },
        repeat=args.repeat,
    )
    report("envstamp diff A B, whole process (target <= 1.00x)", samples,
           baseline="python -m pyperf collect_metadata")

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_variants(Path(tmp), args.manifests)
        whole = [run_quiet([PY, "-m", "envstamp", "compare", *paths]) for _ in range(3)]
        library = [in_process_compare(paths) for _ in range(3)]
    print(f"\n## compare over {args.manifests} manifests (target < 2 s)")
    print(f"{'envstamp compare (whole process)':44} {statistics.median(whole):>8.2f} s")
    print(f"{'compare() in-process, loading included':44} {statistics.median(library):>8.2f} s")

    per_call = in_process_diff(200)
    print("\n## diff() of two loaded manifests, in-process")
    print(f"{'diff(a, b)':44} {per_call * 1000:>8.2f} ms")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
