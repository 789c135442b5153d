"""The `defective-cnn` console script, run as a user runs it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert entry.name in listed.stdout and "0.4200" in listed.stdout and "1/1" in listed.stdout
    assert run_cli("zoo", "path", zoo=tmp_path).stdout.strip() == str(tmp_path)
    missing = run_cli("zoo", "rm", "nope", zoo=tmp_path)
    assert missing.returncode == 1 and "no model 'nope'" in missing.stderr
    removed = run_cli("zoo", "rm", "0123456789ab", zoo=tmp_path)
    assert removed.returncode == 0 and not entry.exists()
