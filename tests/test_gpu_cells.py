"""tests/benchmarks/gpu_cells.py, the harness that runs a notebook's `#| gpu` cells on the device without nbdev."""
import json
import subprocess
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).parent / "benchmarks" / "gpu_cells.py"


def notebook(path: Path, *sources: str) -> Path:
    cells = [dict(cell_type="code", metadata={}, outputs=[], execution_count=None, source=s) for s in sources]
    path.write_text(json.dumps(dict(cells=cells, metadata={}, nbformat=4, nbformat_minor=5)))
    return path


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_cells_run_in_order_slow_skipped_and_a_failure_reported(tmp_path):
    ok = notebook(tmp_path / "ok.ipynb", "#| export\nx = 2", "#| slow\nraise RuntimeError('slow cells are skipped')",
                  "y = x * 3", "#| gpu\nassert y == 6, y", "raise RuntimeError('after the last gpu cell: not run')")
    failing = notebook(tmp_path / "bad.ipynb", "z = 1", "#| gpu\nassert z == 2, 'z is not 2'")
    rehearsal = run(ok, failing, "--rehearse")
    assert rehearsal.returncode == 0, rehearsal.stdout + rehearsal.stderr
    if torch.cuda.is_available():
        result = run(ok, failing)
        assert result.returncode == 1 and "ok.ipynb cell 3 (#| gpu): passed" in result.stdout and "bad.ipynb cell 1: FAILED" in result.stdout
    else:
        result = run(ok)
        assert result.returncode == 1 and "CUDA is not available" in result.stdout
    broken = notebook(tmp_path / "broken.ipynb", "w = undefined_name", "#| gpu\nw")
    result = run(broken, "--rehearse")
    assert result.returncode == 1 and "broken.ipynb cell 0: FAILED" in result.stdout and "NameError" in result.stdout
