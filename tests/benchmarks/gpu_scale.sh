#!/usr/bin/env bash
# The second device run of issues 13 and 14, on one NVIDIA GPU with torch preinstalled and no network:
#   1. bench_train.py --trace: ours against the plain loop, with a torch.profiler summary of where an epoch's time goes,
#      and the variants (no fused SGD, torch.compile);
#   2. bench_packing.py: eight cpu-profile ResNet-18s trained through Ray with 1 GPU per network against 0.25;
#   3. bench_models.py: training-step throughput of every architecture at 32 px (CIFAR), 28 px (MNIST) and 224 px
#      (image folders), for the plan's throughput table.
# From the repository root:  bash tests/benchmarks/gpu_scale.sh
# with the git-ignored folder .gpu/ beside it, made on a machine with a network (README, "On a GPU"):
#   .gpu/ray_stripped.tar.xz   ray 2.60.0's cp312 wheel unpacked, without its Java jar, rllib/data/serve/llm/tune/train
#                              and with its three binaries stripped (the whole wheel is 79 MB, over the device's 64 MiB)
#   .gpu/whl/*.whl             the Ray requirements the device image lacks (jsonschema and its three requirements)
#   .gpu/fashion-raw.tar.xz    the four Fashion-MNIST IDX files, uncompressed, then xz'd (smaller than the gzipped ones)
# Results (JSON and logs) go to $OUT. REHEARSE=1 runs the same steps at tiny sizes on the CPU with the .venv's packages.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/defective_cnn_gpu_out}
mkdir -p "$OUT"
began=$(date +%s)
if [[ ${REHEARSE:-0} == 1 ]]; then
  bench_args=(--n-images 512 --width 0.125 --epochs 1 --n-test 128 --trace-images 256)
  packing_args=(--profile smoke --n-networks 2 --gpus-per-job 0,0 --num-cpus 2)
  models_args=(--device cpu --steps 1 --batch 4 --width 0.125 --threads 1)
  sizes=("32 3" "28 1")
else
  site=/tmp/site
  mkdir -p $site /tmp/fashion-mnist
  tar xJf .gpu/ray_stripped.tar.xz -C $site || { echo "gpu_scale: unpacking Ray failed" >&2; exit 1; }
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $site .gpu/whl/*.whl \
    || { echo "gpu_scale: installing .gpu/whl failed" >&2; exit 1; }
  tar xJf .gpu/fashion-raw.tar.xz -C /tmp/fashion-mnist && gzip -1 -f /tmp/fashion-mnist/*-ubyte \
    || { echo "gpu_scale: unpacking Fashion-MNIST failed" >&2; exit 1; }
  export PYTHONPATH=$site:$PWD DEFECTIVE_CNN_DATA=/tmp/fashion-mnist
  bench_args=()
  packing_args=(--gpus-per-job 1,0.25)
  models_args=(--device cuda --amp --steps 20 --width 1)
  sizes=("32 3" "28 1" "224 3")
fi
export DEFECTIVE_CNN_QUIET=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, ray; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'ray', ray.__version__)" \
  || { echo "gpu_scale: torch or ray is missing" >&2; exit 1; }

source tests/benchmarks/steps.sh
step bench_cifar 200 python3 tests/benchmarks/bench_train.py "${bench_args[@]}" --trace --json "$OUT/bench_cifar.json"
step bench_packing 200 python3 tests/benchmarks/bench_packing.py "${packing_args[@]}" --json "$OUT/bench_packing.json"
for size in "${sizes[@]}"; do  # at 224 px: the paper's image-folder architectures, fewer steps (slowest last)
  set -- $size
  if [[ $1 == 224 ]]; then archs=(--archs resnet18,resnet50,senet18,vgg19,densenet121 --steps 5); else archs=(--archs all); fi
  step "bench_models_$1" 45 python3 tests/benchmarks/bench_models.py "${models_args[@]}" "${archs[@]}" --defects standard \
    --input-size "$1" --channels "$2" --json "$OUT/bench_models_$1.json"
done
python3 tests/benchmarks/gpu_summary.py "$OUT" | tee "$OUT/summary.txt"
echo "gpu_scale.sh: $(( $(date +%s) - began )) s in all"
