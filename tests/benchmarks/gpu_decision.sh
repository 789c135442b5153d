#!/usr/bin/env bash
# Issue 12's device run: the converged Table 4, i.e. the named run decision/cpu (papermill_runs/runs.yaml, `requires:
# cuda`) through the runner, on one NVIDIA GPU with torch preinstalled and no network. From the repository root:
#
#   bash tests/benchmarks/gpu_decision.sh
#
# with the git-ignored folders .whl/ (wheels of what the package needs beyond torch and numpy; README, "On a GPU") and
# data/fashion-mnist/ (the gzipped IDX files) beside it. The run trains the cpu profile's 15 networks (5 rows x 3 seeds)
# into an empty zoo (three processes sharing the GPU), then attacks them: Boundary in one stacked run, HopSkipJump one
# process per network. The executed notebook, its manifest, CSV and PNG files
# come back in $OUT/decision_run.tar.gz (unpack it in the repository root), the zoo's records (config and metrics, not
# the weights) in $OUT/decision_zoo.tar.gz. REHEARSE=1 runs the same steps on the CPU at the smoke profile (2
# processes), without installing wheels, into a scratch output folder. WHEELS=DIR installs the wheels of DIR instead
# of .whl/: a smaller set, leaving out what the device's image already has, keeps what travels under 64 MiB.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/defective_cnn_gpu_out}
SITE=${SITE:-/tmp/site}
mkdir -p "$OUT"
began=$(date +%s)
if [[ ${REHEARSE:-0} == 1 ]]; then
  runs_out=$(mktemp -d)
  run_args=(run decision --profile smoke -p workers=2 -p stack_networks=True --out "$runs_out")
  train_args=(decision --profile smoke --processes 2)
  export DEFECTIVE_CNN_ZOO=${DEFECTIVE_CNN_ZOO:-$(mktemp -d)}
else
  runs_out=papermill_runs
  run_args=(run decision --run cpu)
  train_args=(decision --run cpu --processes 3)
  export DEFECTIVE_CNN_ZOO=${DEFECTIVE_CNN_ZOO:-/tmp/defective_cnn_zoo}
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "${WHEELS:-.whl}"/*.whl \
    || { echo "gpu_decision: installing the wheels of ${WHEELS:-.whl}/ failed" >&2; exit 1; }
  export PYTHONPATH=$SITE:$PWD
fi
export DEFECTIVE_CNN_DATA=${DEFECTIVE_CNN_DATA:-$PWD/data/fashion-mnist}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, foolbox, papermill; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'foolbox', foolbox.__version__)" \
  || { echo "gpu_decision: torch, foolbox or papermill is missing" >&2; exit 1; }

source tests/benchmarks/steps.sh
step train ${TRAIN_LIMIT:-150} python3 tests/benchmarks/train_shared_gpu.py "${train_args[@]}"
cli=(python3 -c "import sys; from defective_cnn.cli import main; sys.exit(main())")
t0=$(date +%s)
step decision ${DECISION_LIMIT:-390} "${cli[@]}" "${run_args[@]}"
if ! grep -q "1 ok" "$OUT/decision.log" && (( $(date +%s) - t0 < 120 )); then  # failed early: once more, one process per network
  left=$(( ${CALL_LIMIT:-590} - ($(date +%s) - began) ))
  step decision_unstacked $(( left > 60 ? left : 60 )) "${cli[@]}" "${run_args[@]}" -p stack_networks=False
fi
tar -czf "$OUT/decision_run.tar.gz" -C "$runs_out/.." "$(basename "$runs_out")/decision" 2>/dev/null \
  || tar -czf "$OUT/decision_run.tar.gz" -C "$runs_out" decision
(cd "$DEFECTIVE_CNN_ZOO" && tar -czf "$OUT/decision_zoo.tar.gz" --exclude='*.pt' .)
nvidia-smi --query-gpu=memory.used --format=csv,noheader || true
echo "gpu_decision.sh: $(( $(date +%s) - began )) s in all"
