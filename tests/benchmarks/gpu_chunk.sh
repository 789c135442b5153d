#!/usr/bin/env bash
# Issue 24's device run: chunk N of the gpu sweep (plan.gpu_chunks over the `profile: gpu` runs of
# papermill_runs/runs.yaml; `python tests/benchmarks/gpu_chunk.py 1 --plan` prints every chunk) through the runner,
# on one NVIDIA GPU with torch preinstalled and no network, from an empty zoo. From the repository root:
#
#   WHEELS=.whl_gpu bash tests/benchmarks/gpu_chunk.sh N
#
# with the git-ignored folders of gpu_decision.sh beside it: the wheels (.whl/, or the smaller WHEELS=DIR that leaves
# out what the device's image has; docs/gpu.md, "Table 4's run") and data/fashion-mnist/ (the gzipped IDX files).
# The chunk's networks are trained first in PROCESSES processes sharing the GPU (default 3), then each run is executed
# with `defective-cnn run SECTION --run RUN`. What comes back in $OUT (4 files): chunkN_runs.tar.gz (the executed
# notebooks, manifests, CSV and PNG files of papermill_runs/<section>/, to unpack in the repository root),
# chunkN_zoo.tar.gz (the zoo's records: config and metrics, not the weights), chunkN_logs.tar.gz and summary.txt.
# PROFILE=smoke rehearses the same steps on the CPU: the chunk's runs ad hoc at that profile (same names and seeds)
# into a scratch output folder and a scratch zoo, without installing wheels.
set -uo pipefail
cd "$(dirname "$0")/../.."
chunk=${1:?usage: bash tests/benchmarks/gpu_chunk.sh CHUNK (a number; gpu_chunk.py 1 --plan lists them)}
OUT=${OUT:-/tmp/defective_cnn_gpu_out}
SITE=${SITE:-/tmp/site}
mkdir -p "$OUT"
logs=$(mktemp -d)
began=$(date +%s)
touch "$logs/.began"  # what the runs write after this comes back
if [[ -n ${PROFILE:-} ]]; then
  runs_out=$(mktemp -d)/papermill_runs
  mkdir -p "$runs_out"
  profile_args=(--profile "$PROFILE")
  export DEFECTIVE_CNN_ZOO=${DEFECTIVE_CNN_ZOO:-$(mktemp -d)}
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
else
  runs_out=papermill_runs
  profile_args=()
  export DEFECTIVE_CNN_ZOO=${DEFECTIVE_CNN_ZOO:-/tmp/defective_cnn_zoo}
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "${WHEELS:-.whl}"/*.whl \
    || { echo "gpu_chunk: installing the wheels of ${WHEELS:-.whl}/ failed" >&2; exit 1; }
  export PYTHONPATH=$SITE:$PWD
  export DEFECTIVE_CNN_DATA=${DEFECTIVE_CNN_DATA:-$PWD/data/fashion-mnist}
fi
export PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no NVIDIA GPU (CPU rehearsal)"; } | tee "$logs/device.txt"
echo "gpu_chunk: install and checks took $(( $(date +%s) - began )) s" | tee -a "$logs/device.txt"

step() {  # step NAME SECONDS COMMAND...: COMMAND under a time limit, its output shown and kept in $logs/NAME.log
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  echo "== $name (limit ${limit} s)"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$logs/$name.log"
  local code=${PIPESTATUS[0]}
  echo "== $name: exit $code after $(( $(date +%s) - t0 )) s" | tee -a "$logs/steps.txt"
}
step plan 60 "$PYTHON" tests/benchmarks/gpu_chunk.py "$chunk" --plan "${profile_args[@]}"
step train ${TRAIN_LIMIT:-360} "$PYTHON" tests/benchmarks/gpu_chunk.py "$chunk" --train --processes "${PROCESSES:-3}" "${profile_args[@]}"
cli=("$PYTHON" -c "import sys; from defective_cnn.cli import main; sys.exit(main())")
k=0
while read -r -a run_args; do
  k=$((k + 1))
  left=$(( ${CALL_LIMIT:-470} - ($(date +%s) - began) ))
  step "run$k-${run_args[1]}-${run_args[3]}" $(( left > 30 ? left : 30 )) "${cli[@]}" "${run_args[@]}"
done < <("$PYTHON" tests/benchmarks/gpu_chunk.py "$chunk" --commands "${profile_args[@]}" ${PROFILE:+--out "$runs_out"})
(cd "$(dirname "$runs_out")" && find papermill_runs -type f -newer "$logs/.began" | sort > "$logs/written.txt")
tar -czf "$OUT/chunk${chunk}_runs.tar.gz" -C "$(dirname "$runs_out")" -T "$logs/written.txt"
echo "gpu_chunk: $(wc -l < "$logs/written.txt") files written by the runs" | tee -a "$logs/steps.txt"
(cd "$DEFECTIVE_CNN_ZOO" && tar -czf "$OUT/chunk${chunk}_zoo.tar.gz" --exclude='*.pt' .)
{ cat "$logs/device.txt" "$logs/steps.txt"; echo "gpu_chunk.sh chunk $chunk${PROFILE:+ at $PROFILE}: $(( $(date +%s) - began )) s in all"; } | tee "$OUT/summary.txt"
tar -czf "$OUT/chunk${chunk}_logs.tar.gz" -C "$logs" .
