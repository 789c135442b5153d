#!/usr/bin/env bash
# Issue 14's device run: training throughput (ours against a plain loop), determinism, and the gpu profile's
# accuracy on Fashion-MNIST, on one NVIDIA GPU with torch preinstalled and no network. From the repository root:
#
#   bash tests/benchmarks/gpu_check.sh
#
# with the git-ignored folders .whl/ (wheels of what the package needs beyond torch and numpy; README,
# "On a GPU") and data/fashion-mnist/ (the four gzipped IDX files) beside it. Results (JSON and logs) go
# to $OUT (default /tmp/defective_cnn_gpu_out). About 5 minutes on one H100; each step has a time limit,
# 8 minutes in all. REHEARSE=1 runs the same steps at tiny sizes on the CPU, without installing wheels.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/defective_cnn_gpu_out}
SITE=${SITE:-/tmp/site}  # where the wheels are installed
mkdir -p "$OUT"
began=$(date +%s)
if [[ ${REHEARSE:-0} == 1 ]]; then
  tiny=(--n-images 512 --width 0.125 --epochs 1 --n-test 128)
  check_args=(--smoke)
else
  tiny=()
  check_args=()
fi
if [[ ${REHEARSE:-0} != 1 ]] && compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl \
    || { echo "gpu_check: installing the wheels of .whl/ failed" >&2; exit 1; }
fi
export PYTHONPATH=$SITE:$PWD
export DEFECTIVE_CNN_DATA=${DEFECTIVE_CNN_DATA:-$PWD/data/fashion-mnist}
export DEFECTIVE_CNN_ZOO=${DEFECTIVE_CNN_ZOO:-/tmp/defective_cnn_zoo}
export DEFECTIVE_CNN_QUIET=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 - <<'PY' || { echo "gpu_check: torch, numpy or tqdm is missing" >&2; exit 1; }
import importlib, sys
import numpy, torch, tqdm
print(f"python {sys.version.split()[0]}, torch {torch.__version__} (CUDA {torch.version.cuda}, available: {torch.cuda.is_available()}), numpy {numpy.__version__}")
missing = [m for m in ("pandas", "matplotlib", "seaborn", "yaml", "papermill", "ipykernel", "foolbox", "mlxtend", "torchvision")
           if importlib.util.find_spec(m) is None]
print("not importable (needed only by the section notebooks or downloads):", ", ".join(missing) or "none")
PY

source tests/benchmarks/steps.sh
step bench_cifar 255 python3 tests/benchmarks/bench_train.py "${tiny[@]}" --trace --json "$OUT/bench_cifar.json"
step bench_fashion 75 python3 tests/benchmarks/bench_train.py --dataset fashion-mnist --n-images 60000 --no-mask --no-step \
  --variants "" --adv-steps 1,7 --adv-images 10000 "${tiny[@]}" --json "$OUT/bench_fashion.json"
step gpu_check 150 python3 tests/benchmarks/gpu_check.py "${check_args[@]}" --json "$OUT/gpu_check.json"
python3 tests/benchmarks/gpu_summary.py "$OUT" | tee "$OUT/summary.txt"
echo "gpu_check.sh: $(( $(date +%s) - began )) s in all"
