"The training benchmark runs on the CPU (CI's machine) and prints its ratio against a plain PyTorch loop."
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent / "benchmarks" / "bench_train.py"


def test_bench_train_runs_on_cpu_and_prints_a_ratio(tmp_path):
    result = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(BENCH), "--n-images", "256", "--width", "0.125", "--n-test", "64",
                           "--trace", "--trace-images", "128", "--json", str(result)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ratio ours/plain: epoch" in done.stdout, done.stdout[-2000:]
    summary = json.loads(result.read_text())["summary"]
    assert summary["ours_images_per_s"] > 0 and summary["plain_images_per_s"] > 0
    assert summary["ours_over_plain_epoch"] > 0
    trace = json.loads(result.read_text())["trace"]  # where the time goes: the epoch's and the step's busiest ops
    assert "where the time goes" in done.stdout
    for phase in ("epoch", "step"):
        assert trace[phase]["busy_seconds"] > 0 and trace[phase]["top"], phase
        assert any("conv" in row["op"] for row in trace[phase]["top"]), [row["op"] for row in trace[phase]["top"]]
