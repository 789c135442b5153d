"""The `defective-cnn` console script, run as a user runs it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from defective_cnn.train import get_profile

BIN = Path(sys.executable).parent / "defective-cnn"


def run_cli(*args, zoo):
    env = dict(os.environ, DEFECTIVE_CNN_ZOO=str(zoo))
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.skipif(not BIN.exists(), reason="the package is not installed with its console script")
def test_zoo_list_and_rm(tmp_path):
    entry = tmp_path / "resnet18_standard_fashion-mnist_smoke_s0_0123456789ab"
    entry.mkdir()
    (entry / "config.json").write_text(json.dumps(dict(arch="resnet18", defect=None, dataset="fashion-mnist", profile="smoke",
                                                       overrides={}, seed=0, key="0123456789ab")))
    (entry / "metrics.csv").write_text("epoch,train_loss,train_acc,test_acc,lr,seconds\n1,2.0,0.3,0.42,0.1,1.0\n")
    listed = run_cli("zoo", "list", zoo=tmp_path)
    assert listed.returncode == 0, listed.stderr
    epochs = get_profile("smoke", "fashion-mnist").epochs  # one epoch done of the smoke profile's
    assert entry.name in listed.stdout and "0.4200" in listed.stdout and f"1/{epochs}" in listed.stdout
    assert run_cli("zoo", "path", zoo=tmp_path).stdout.strip() == str(tmp_path)
    missing = run_cli("zoo", "rm", "nope", zoo=tmp_path)
    assert missing.returncode == 1 and "no model 'nope'" in missing.stderr
    removed = run_cli("zoo", "rm", "0123456789ab", zoo=tmp_path)
    assert removed.returncode == 0 and not entry.exists()


REPO = Path(__file__).resolve().parents[1]


def run_in(cwd, *args, timeout=180):
    return subprocess.run([str(BIN), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(not BIN.exists(), reason="the package is not installed with its console script")
def test_show_prints_a_committed_run():
    if not (REPO / "papermill_runs" / "transfer" / "cpu.json").exists():
        pytest.skip("no committed transfer/cpu run")
    shown = run_in(REPO, "show", "transfer/cpu")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("transfer/cpu — ok, ")
    assert "defense rate" in shown.stdout and "n_eval" in shown.stdout and " %" in shown.stdout
    for line in ("notebook: papermill_runs/transfer/cpu.ipynb", "table:    papermill_runs/transfer/cpu_table3.csv",
                 "figure:   papermill_runs/transfer/cpu_table3.png"):
        assert line in shown.stdout
    unknown = run_in(REPO / "nbs", "show", "transfer/no_such_run")  # from a subfolder: the checkout is found above it
    assert unknown.returncode == 2 and unknown.stdout == ""
    committed = ", ".join(sorted(p.stem for p in (REPO / "papermill_runs" / "transfer").glob("*.json")))
    assert unknown.stderr.splitlines() == ["defective-cnn show: error: no run transfer/no_such_run in "
                                           f"{REPO / 'papermill_runs'}; runs of transfer: {committed}"]


SQUARE = {"cells": [
    {"cell_type": "markdown", "id": "a0000001", "metadata": {}, "source": ["# Squares"]},
    {"cell_type": "code", "id": "a0000002", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [],
     "source": ["x: int = 2  # the number to square\n", "output_dir: str = '.'  # where the CSV goes\n", "run_name: str = 'default'  # its prefix"]},
    {"cell_type": "markdown", "id": "a0000003", "metadata": {}, "source": ["## Squaring\n", "\n", "One line per step."]},
    {"cell_type": "code", "id": "a0000004", "metadata": {}, "execution_count": None, "outputs": [],
     "source": ["import sys\n", "from pathlib import Path\n", "print('step 1 of 1', file=sys.stderr)\n",
                "Path(output_dir, f'{run_name}_squares.csv').write_text(f'x,square,value_paper\\n{x},{x * x},0.5\\n')"]},
    {"cell_type": "code", "id": "a0000005", "metadata": {}, "execution_count": None, "outputs": [],
     "source": ["assert x != 13, 'thirteen is unlucky'"]}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}


@pytest.mark.skipif(not BIN.exists(), reason="the package is not installed with its console script")
def test_run_talks_shows_results_and_failures(tmp_path):
    "In a (tiny) checkout: progress and kernel lines while running, the table and files at the end, the up-to-date case, a failing cell."
    (tmp_path / "settings.ini").write_text("[DEFAULT]\nlib_name = defective_cnn\n")
    (tmp_path / "nbs").mkdir()
    (tmp_path / "nbs" / "square.ipynb").write_text(json.dumps(SQUARE))
    (tmp_path / "papermill_runs").mkdir()
    (tmp_path / "papermill_runs" / "runs.yaml").write_text("square:\n  three: {x: 3}\n  unlucky: {x: 13}\n")
    ran = run_in(tmp_path, "run", "square", "--run", "three")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    out = ran.stdout
    titles = [line.split("] ", 1)[1] for line in out.splitlines() if line.startswith("[cell ")]
    assert titles == ["Squares", "# Parameters", "Squaring", "assert x != 13, 'thirteen is unlucky'"], out  # heading above, else first line
    assert "[cell 1/4, 00:" in out and "[cell 4/4, 00:" in out
    assert "\n    step 1 of 1\n" in out  # the kernel's stderr line, as it came
    assert "  x  square  paper\n  3       9    0.5\n" in out
    assert "notebook: papermill_runs/square/three.ipynb" in out and "table:    papermill_runs/square/three_squares.csv" in out
    again = run_in(tmp_path, "run", "square", "--run", "three")
    assert again.returncode == 0 and "square/three: up to date" in again.stdout and "--force" in again.stdout
    assert "  3       9    0.5\n" in again.stdout  # the results, shown again
    failed = run_in(tmp_path, "run", "square", "--run", "unlucky")
    assert failed.returncode == 1
    assert ("error in cell 4/4 (assert x != 13, 'thirteen is unlucky'):\n    │ assert x != 13, 'thirteen is unlucky'\n"
            "    AssertionError: thirteen is unlucky\n") in failed.stdout
    assert "the notebook as far as it ran: papermill_runs/square/unlucky.failed.ipynb" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr


@pytest.mark.skipif(not BIN.exists(), reason="the package is not installed with its console script")
def test_show_profile_prints_training_fields_and_every_section():
    from defective_cnn.settings import SETTINGS

    shown = run_in(REPO, "show", "profile", "cpu")
    assert shown.returncode == 0, shown.stderr
    width = next(line.split() for line in shown.stdout.splitlines() if line.split()[:1] == ["width"])
    assert width == ["width", f"{get_profile('cpu', 'fashion-mnist').width}*", f"{get_profile('cpu', 'cifar10').width}*"]
    sections = [line.strip() for line in shown.stdout.split("\nsections (")[1].splitlines() if line.startswith("  ") and not line.startswith("   ")]
    assert sections == list(SETTINGS)
    whitebox = shown.stdout.split("\n  whitebox\n")[1].split("\n  " + list(SETTINGS)[list(SETTINGS).index("whitebox") + 1])[0]
    assert [line.split() for line in whitebox.splitlines()] == [[k, str(v)] for k, v in SETTINGS["whitebox"]["cpu"].items()]
    unknown = run_in(REPO, "show", "profile", "huge")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr == "defective-cnn show: error: unknown profile 'huge'; profiles: paper, cpu, smoke, gpu\n"
