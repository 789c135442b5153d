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


def run_bench(name, *args, timeout=300):
    done = subprocess.run([sys.executable, str(BENCH.parent / name), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def test_bench_step_and_bench_models_run_on_cpu(tmp_path):
    "The GPU scripts stay runnable where CI runs: their CPU rows (no CUDA graph on the CPU)."
    out = run_bench("bench_step.py", "--width", "0.125", "--batch", "8", "--steps", "2", "--repeats", "1",
                    "--json", tmp_path / "step.json")
    rates = json.loads((tmp_path / "step.json").read_text())["images_per_s"]
    assert set(rates) == {"train_step", "autotuned_cudnn"} and all(r > 0 for r in rates.values()), out
    run_bench("bench_models.py", "--archs", "resnet18,vgg19", "--defects", "standard", "--width", "0.125", "--batch", "4",
              "--steps", "1", "--threads", "1", "--json", tmp_path / "models.json")
    rows = json.loads((tmp_path / "models.json").read_text())["rows"]
    assert {r["arch"] for r in rows} == {"resnet18", "vgg19"} and all(r["images_per_s"] > 0 for r in rows)


def test_check_cuda_graphs_runs_on_cpu(tmp_path):
    "On the CPU the field is ignored, so every check must say identical; on a GPU the same script is the real check."
    out = run_bench("check_cuda_graphs.py", "--n-images", "200", "--json", tmp_path / "check.json")
    checks = json.loads((tmp_path / "check.json").read_text())["checks"]
    assert len(checks) == 4 and all(c["identical"] for c in checks.values()), out
