"""Run the `#| gpu` cells of library notebooks on a machine with CUDA, where nbdev is not installed.

    cd nbs && python3 ../tests/benchmarks/gpu_cells.py 14_decision.ipynb [...]

(from the notebooks' folder, where nbdev_test runs them too).

Executes each notebook's code cells in order in one namespace, as `nbdev_test --flags gpu` would, up to its last
`#| gpu` cell: `#| slow` cells are skipped (as in the test suite), every other cell runs. Prints each cell's
outcome and exits non-zero if a cell fails or CUDA is missing. `--rehearse` skips the `#| gpu` cells, to try the
harness on a CPU.
"""
import argparse
import json
import sys
import time
import traceback
from pathlib import Path


def flags(source: str) -> set:
    "The words of a cell's leading `#| ...` lines that nbdev reads as test flags."
    words = set()
    for line in source.splitlines():
        if not line.startswith("#|"):
            break
        words.update(line[2:].split())
    return words


def run_notebook(path: Path, rehearse: bool) -> bool:
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in cells]
    gpu_cells = [k for k, s in enumerate(sources) if "gpu" in flags(s)]
    if not gpu_cells:
        print(f"{path}: no #| gpu cell")
        return True
    namespace = {"__name__": "__main__"}
    for k, source in enumerate(sources[: gpu_cells[-1] + 1]):
        cell_flags = flags(source)
        if "slow" in cell_flags or ("gpu" in cell_flags and rehearse):
            continue
        started = time.time()
        try:
            exec(compile(source, f"{path.name} cell {k}", "exec"), namespace)
        except Exception:
            print(f"{path.name} cell {k}: FAILED\n{traceback.format_exc()}")
            return False
        if "gpu" in cell_flags:
            print(f"{path.name} cell {k} (#| gpu): passed in {time.time() - started:.1f} s")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--rehearse", action="store_true", help="skip the #| gpu cells (try the harness on a CPU)")
    args = parser.parse_args()
    if not args.rehearse:  # a rehearsal imports only what the cells import
        import torch

        if not torch.cuda.is_available():
            print("gpu_cells: CUDA is not available")
            return 1
        print("torch", torch.__version__, torch.cuda.get_device_name())
    return 0 if all([run_notebook(p, args.rehearse) for p in args.notebooks]) else 1


if __name__ == "__main__":
    sys.exit(main())
