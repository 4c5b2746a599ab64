#!/usr/bin/env bash
# One prepared check on a real NVIDIA GPU host (no network there), run from the repo root:
#   ../shared/tools/device-wheels  (+ test wheels)  then, on the GPU machine:
#   OUT=/some/folder bash tests/gpu_host_check.sh
# It records the host for the tests (NVIDIA probes only, trimmed of host names and paths),
# makes a full raw capture, saves the raw nvidia-smi outputs, runs the test suite with the GPU
# present (the `gpu` marker included), stamps a run with GPU memory sampling, and runs the
# capture benchmark. Everything lands in $OUT as at most 8 files.
set -u
OUT=${OUT:?set OUT to a folder for the results}
export PYTHONPATH=/tmp/site ENVSTAMP_CONFIG_DIR=/tmp/envstamp-config ENVSTAMP_CACHE_DIR=/tmp/envstamp-cache
unset PYTHONDONTWRITEBYTECODE
log="$OUT/log.txt"
{
  echo "== host"; python3 --version; nvidia-smi -L; nproc
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl 2>&1 | tail -2

  echo "== NVIDIA host recording"
  python3 tests/record_nvidia_host.py /tmp/real-gpu; echo "record rc=$?"

  echo "== full capture (raw)"
  python3 -m envstamp capture --raw /tmp/raw -o "$OUT/manifest.json"; echo "capture rc=$?"
  python3 -m envstamp show "$OUT/manifest.json"
  python3 -m envstamp verify "$OUT/manifest.json"; echo "verify rc=$?"

  echo "== raw nvidia-smi outputs"
  mkdir -p /tmp/smi
  nvidia-smi -q -x >/tmp/smi/q-x.xml; nvidia-smi -q >/tmp/smi/q.txt; nvidia-smi >/tmp/smi/table.txt
  nvidia-smi -L >/tmp/smi/L.txt; nvidia-smi --version >/tmp/smi/version.txt
  nvidia-smi --query-gpu=index,name,uuid,serial,pci.bus_id,driver_version,vbios_version,memory.total,memory.used,power.limit,power.default_limit,power.max_limit,clocks.max.graphics,clocks.max.memory,pcie.link.gen.max,pcie.link.width.max,pcie.link.gen.current,pcie.link.width.current,persistence_mode,mig.mode.current,ecc.mode.current,compute_cap,temperature.gpu,utilization.gpu,pstate --format=csv >/tmp/smi/query-gpu.csv
  for f in /tmp/smi/*; do python3 -m envstamp parse "$(case $f in *q-x.xml) echo nvidia-smi-xml;; *q.txt) echo nvidia-smi-q;; *table.txt) echo nvidia-smi-table;; *L.txt) echo nvidia-smi-list;; *version.txt) echo nvidia-smi-version;; *.csv) echo nvidia-smi-csv;; esac)" "$f" >/dev/null && echo "parsed $f" || echo "PARSE FAILED $f"; done

  echo "== stamped run with GPU memory sampling"
  python3 -m envstamp run -r 3 -o /tmp/r.jsonl -- nvidia-smi -q -d MEMORY >/dev/null; echo "run rc=$?"
  python3 -m envstamp show /tmp/r.jsonl; python3 -m envstamp verify /tmp/r.jsonl; echo "verify rc=$?"
} >"$log" 2>&1

timeout 240 python3 -m pytest -q -p no:cacheprovider -rs >"$OUT/pytest.txt" 2>&1; echo "pytest rc=$?" >>"$log"
timeout 150 python3 benchmarks/bench_capture.py --repeat 10 >"$OUT/bench.txt" 2>&1; echo "bench rc=$?" >>"$log"
tar czf "$OUT/real-gpu.tgz" -C /tmp real-gpu; tar czf "$OUT/raw.tgz" -C /tmp raw; tar czf "$OUT/smi.tgz" -C /tmp smi
tail -c 6000 "$log"; tail -5 "$OUT/pytest.txt"; cat "$OUT/bench.txt" | tail -30
