"""The built wheel, installed outside any checkout: it carries the section notebooks and runs.yaml, and
`defective-cnn run transfer --profile smoke` works from an empty folder, writing to ./papermill_runs/."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from defective_cnn.freshness import section_notebooks

REPO = Path(__file__).resolve().parents[1]


def _copy_sources(target: Path):
    "What the wheel is built from, copied so that the build leaves no build/ or egg-info in the checkout."
    for name in ("setup.py", "pyproject.toml", "settings.ini", "README.md", "MANIFEST.in"):
        shutil.copy2(REPO / name, target / name)
    shutil.copytree(REPO / "defective_cnn", target / "defective_cnn", ignore=shutil.ignore_patterns("__pycache__", "notebooks"))
    shutil.copytree(REPO / "nbs", target / "nbs", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (target / "papermill_runs").mkdir()
    shutil.copy2(REPO / "papermill_runs" / "runs.yaml", target / "papermill_runs" / "runs.yaml")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    "(wheel, folder the wheel is installed into, environment that imports it from there)."
    sources, dist, site = (tmp_path_factory.mktemp(n) for n in ("sources", "dist", "site"))
    _copy_sources(sources)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(sources), "-w", str(dist)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("defective_cnn-*.whl"))
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    # the heavy dependencies come from this interpreter's environment; defective_cnn from `site`, before any checkout
    env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS="1")
    return wheel, site, env


def cli(installed, cwd, *args, timeout=120, **env):
    "The wheel's console script `defective-cnn ARGS` run in `cwd`."
    _, site, environment = installed
    return subprocess.run([str(site / "bin" / "defective-cnn"), *args], cwd=cwd, env={**environment, **env},
                          capture_output=True, text=True, timeout=timeout)


def test_wheel_carries_the_section_notebooks_and_the_run_file(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    packaged = sorted(n.split("/")[-1] for n in names if n.startswith("defective_cnn/notebooks/"))
    assert packaged == sorted([p.name for p in section_notebooks(REPO / "nbs").values()] + ["runs.yaml"])
    assert not any(n.split("/")[-1][0].isdigit() for n in packaged), "library notebooks do not belong in the wheel"


def test_runner_finds_them_outside_a_checkout(installed, tmp_path):
    _, site, env = installed
    probe = ("import json, defective_cnn; from defective_cnn.freshness import locate; w = locate(); "
             "print(json.dumps(dict(package=defective_cnn.__file__, nbs=str(w.nbs_dir), runs=str(w.runs_file), out=str(w.out_dir), checkout=w.checkout)))")
    found = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    where = json.loads(found.stdout)
    assert Path(where["package"]).is_relative_to(site), f"imported the checkout's package, not the wheel's: {where['package']}"
    assert where["nbs"] == str(site / "defective_cnn" / "notebooks") and where["runs"] == str(site / "defective_cnn" / "notebooks" / "runs.yaml")
    assert where["out"] == str(tmp_path.resolve() / "papermill_runs") and where["checkout"] is None
    listed = cli(installed, tmp_path, "show")
    assert listed.returncode == 0 and listed.stdout.startswith("no runs in "), listed.stderr


@pytest.mark.parametrize("args, message", [
    (("run", "transfr"), "defective-cnn run: error: unknown section 'transfr'; sections: ablation,"),
    (("run", "transfer", "--run", "gpu2"), "no run named 'gpu2' for transfer; its runs: transfer/cpu, transfer/cpu_wide"),
    (("run", "transfer", "-p", "no_such=1"), "transfer.ipynb has no parameter(s) no_such; it declares:"),
    (("show", "transfer/cpu"), "defective-cnn show: error: no runs of 'transfer' in"),
])
def test_mistakes_are_one_line_not_a_traceback(installed, tmp_path, args, message):
    result = cli(installed, tmp_path, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_smoke_run_from_an_empty_folder(installed, tmp_path, smoke_zoo):
    zoo = smoke_zoo  # the run's shared smoke zoo: the networks are the package's either way
    work = tmp_path / "work"
    work.mkdir()
    result = cli(installed, work, "run", "transfer", "--profile", "smoke", timeout=600, DEFECTIVE_CNN_ZOO=str(zoo))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    folder = work / "papermill_runs" / "transfer"
    assert (folder / "smoke.ipynb").exists() and json.loads((folder / "smoke.json").read_text())["status"] == "ok"
    assert sorted(p.name for p in folder.glob("smoke_*.csv")) == ["smoke_table2.csv", "smoke_table3.csv", "smoke_table7.csv"]  # smoke: all three
    assert sorted(p.name for p in folder.glob("smoke_*.png")) == ["smoke_table2.png", "smoke_table3.png", "smoke_table7.png"]
    assert "[cell 1/" in result.stdout and "Tables 3 and 7: PGD transfer across architectures" in result.stdout  # it talked
    assert "figure:   papermill_runs/transfer/smoke_table3.png" in result.stdout  # and said where its files are
    again = cli(installed, work, "run", "transfer", "--profile", "smoke", DEFECTIVE_CNN_ZOO=str(zoo))
    assert again.returncode == 0 and "up to date" in again.stdout and "--force" in again.stdout, again.stdout + again.stderr
