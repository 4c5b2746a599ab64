"""Model-file hashing speed: runner.sha256_file against ``sha256sum`` on the same file.

    python benchmarks/bench_hash.py [--mib 256] [--repeat 3]

A temporary file of ``--mib`` MiB (random bytes) is hashed by envstamp's streaming hasher
(the hash cache is off, so every run reads the file) and by coreutils' ``sha256sum``,
interleaved.  Both read from the page cache after the warm-up, so this compares hashing
throughput, not the disk.  Prints MB/s of both and the ratio (target: close to 1).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _harness import interleaved


def write_file(path: Path, mib: int) -> None:
    chunk = os.urandom(1 << 20)
    with path.open("wb") as handle:
        for _ in range(mib):
            handle.write(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["ENVSTAMP_NO_CACHE"] = "1"  # measure hashing, not the hash cache
    from envstamp.runner import LiveRunner, reset

    reset()
    runner = LiveRunner()
    sha256sum = shutil.which("sha256sum")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.bin"
        write_file(path, args.mib)
        digests: dict[str, str | None] = {}

        def envstamp_hash() -> float:
            start = time.perf_counter()
            digests["envstamp"] = runner.sha256_file(str(path))
            return time.perf_counter() - start

        def coreutils_hash() -> float:
            start = time.perf_counter()
            argv = [sha256sum or "sha256sum", str(path)]
            out = subprocess.run(argv, capture_output=True, check=True)
            digests["sha256sum"] = out.stdout.decode().split()[0] if out.stdout else None
            return time.perf_counter() - start

        commands = {"envstamp runner.sha256_file": envstamp_hash}
        if sha256sum:
            commands["sha256sum (baseline)"] = coreutils_hash
        samples = interleaved(commands, repeat=args.repeat, warmup=1)
    size_mb = args.mib * (1 << 20) / 1e6
    print(f"\n## sha256 of a {args.mib} MiB file (page cache warm)")
    speeds = {name: size_mb / statistics.median(values) for name, values in samples.items()}
    for name, speed in speeds.items():
        print(f"{name:32} {speed:>9.0f} MB/s")
    if sha256sum:
        if digests["envstamp"] != digests["sha256sum"]:
            print("DIGESTS DIFFER:", digests)
        ratio = speeds["envstamp runner.sha256_file"] / speeds["sha256sum (baseline)"]
        print(f"{'ratio envstamp / sha256sum':32} {ratio:>9.2f}x")
    else:
        print("sha256sum not found: no baseline on this machine")


if __name__ == "__main__":
    main()
