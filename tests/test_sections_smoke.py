"""Every section notebook, run as the runner runs it (papermill, profile=smoke) into a temporary folder."""
import ast
import json
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from defective_cnn.execution import run_many
from defective_cnn.freshness import declared_parameters, section_notebooks

REPO = Path(__file__).resolve().parents[1]
SECTIONS = section_notebooks(REPO / "nbs")
RATE_COLUMNS = {"success_defense_rate", "adversarial_accuracy", "accuracy", "stylized_accuracy", "shape_bias", "test_acc"}
COUNT_COLUMNS = {"n_eval", "n_images", "n_attacked"}
MANIFEST_KEYS = {"format", "section", "run", "status", "parameters", "notebook", "notebook_code", "sources", "networks", "data", "seconds",
                 "finished", "torch", "error", "environment"}


def parameters_cell(notebook: Path) -> str:
    cells = [c for c in json.loads(notebook.read_text())["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{notebook.name} must have exactly one cell tagged 'parameters', has {len(cells)}"
    return "".join(cells[0]["source"])


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_parameters_cell_holds_literals_only(section):
    source = parameters_cell(SECTIONS[section])
    for statement in ast.parse(source).body:
        assert isinstance(statement, (ast.Assign, ast.AnnAssign)), f"{section}: not an assignment: {ast.unparse(statement)}"
        assert statement.value is not None, f"{section}: {ast.unparse(statement)} has no value"
        ast.literal_eval(statement.value)  # raises for anything but a literal
    declared = declared_parameters(SECTIONS[section])
    assigned = [t.id for st in ast.parse(source).body for t in (st.targets if isinstance(st, ast.Assign) else [st.target])]
    hidden = sorted(set(assigned) - set(declared))
    assert not hidden, f"{section}: papermill cannot see {hidden}: write type hints it reads, e.g. `x: \"int or None\" = None`"
    trains = "get_models(" in SECTIONS[section].read_text()  # a report of other runs (seeds) draws no networks, so has no seed
    for required in ("profile", "output_dir", "run_name") + (("seed",) if trains else ()):
        assert required in declared, f"{section} lacks the parameter {required!r}"
    assert all(p["help"] for p in declared.values()), f"{section}: every parameter needs a comment (papermill --help-notebook)"


# Two halves, run by two files (test_sections_smoke_more.py is the other) so that pytest's two workers run them at once;
# the seeds report comes last in its half and summarises the runs beside it.
HALVES = (["transfer", "ablation", "adversarial_examples", "decision", "ensemble", "graybox", "keep_prob", "scale", "trifeature", "adaptive"],
          ["later_attacks", "noise", "shuffle", "stylized", "training_curves", "whitebox", "seeds"])
HALF = HALVES[0]


def run_half(sections, tmp_path_factory, smoke_zoo):
    "Run `sections` at smoke into a fresh folder, with the transfer section once more with a parameter it lacks (fails before running)."
    out = tmp_path_factory.mktemp("runs")
    zoo = smoke_zoo  # the run's shared smoke zoo (conftest.py)
    import os
    previous = os.environ.get("DEFECTIVE_CNN_ZOO")
    os.environ["DEFECTIVE_CNN_ZOO"] = str(zoo)  # inherited by the papermill kernels
    jobs = [(section, "smoke", {"profile": "smoke"}) for section in sections]
    jobs.insert(1, ("transfer", "bad", {"profile": "smoke", "no_such_parameter": 1}))  # fails before running
    messages = []
    try:
        results = run_many(jobs, REPO / "nbs", out, log=messages.append)
    finally:
        if previous is None: os.environ.pop("DEFECTIVE_CNN_ZOO", None)
        else: os.environ["DEFECTIVE_CNN_ZOO"] = previous
    return out, {(r.section, r.run): r for r in results}, messages


def test_the_halves_hold_every_section_once():
    assert sorted(HALVES[0] + HALVES[1]) == sorted(SECTIONS) and HALVES[1][-1] == "seeds"


def test_a_failing_run_does_not_stop_the_others(smoke_runs):
    _, results, messages = smoke_runs
    assert results[("transfer", "bad")].status == "failed"
    assert "no_such_parameter" in results[("transfer", "bad")].error
    assert "transfer/bad" in messages[-1]
    assert all(results[(s, "smoke")].status in ("ok", "failed") for s in HALF)


@pytest.mark.parametrize("section", HALF)
def test_section_runs_at_smoke_and_writes_results(smoke_runs, section):
    check_smoke_run(smoke_runs, section)


def check_smoke_run(smoke_runs, section):
    "What every section's smoke run must have written."
    out, results, _ = smoke_runs
    result = results[(section, "smoke")]
    assert result.status == "ok", f"{section} failed: {result.error}"
    executed = json.loads(result.output.read_text())
    injected = executed["metadata"]["papermill"]["parameters"]
    assert injected["profile"] == "smoke" and injected["run_name"] == "smoke"
    assert not Path(injected["output_dir"]).is_absolute()  # relative to the folder the notebook ran in: nbs/
    assert (REPO / "nbs" / injected["output_dir"]).resolve() == (out / section).resolve()
    csvs = sorted((out / section).glob("smoke_*.csv"))
    assert csvs, f"{section} wrote no results CSV"
    for csv in csvs:
        frame = pd.read_csv(csv)
        assert len(frame) > 0, f"{csv.name} is empty"
        assert set(frame["profile"]) == {"smoke"}, f"{csv.name}: profile column must say smoke"
        for rate in RATE_COLUMNS & set(frame.columns):  # a smoke run measures something: no rate is NaN, none rests on 0 images
            assert frame[rate].notna().all(), f"{csv.name}: {rate} has NaN in {int(frame[rate].isna().sum())} row(s)"
        for count in COUNT_COLUMNS & set(frame.columns):
            assert (frame[count] > 0).all(), f"{csv.name}: {count} is 0 in {int((frame[count] <= 0).sum())} row(s)"
    pngs = sorted((out / section).glob("smoke_*.png"))
    assert pngs, f"{section} wrote no figure"
    for png in pngs:
        with Image.open(png) as image:
            image.verify()  # a whole PNG, not a truncated or empty file
        with Image.open(png) as image:
            assert image.format == "PNG" and min(image.size) > 100, f"{png.name}: {image.format} {image.size}"
    manifest = json.loads(result.output.with_suffix(".json").read_text())
    missing = MANIFEST_KEYS - set(manifest)
    assert not missing, f"{section}: manifest lacks {sorted(missing)}"
    assert manifest["status"] == "ok" and manifest["parameters"] == {"profile": "smoke"} and manifest["error"] == ""
    assert manifest["seconds"] > 0 and manifest["sources"] and all(len(h) == 16 for h in manifest["sources"].values()) and len(manifest["notebook_code"]) == 16
    trains = "get_models(" in SECTIONS[section].read_text()
    assert not trains or (manifest["networks"] and manifest["data"]), f"{section}: the manifest records no network or data it read"
    assert all(set(n) == {"key", "config"} for n in manifest["networks"].values())


def test_the_cards_papermill_command_leaves_the_checkout_clean(tmp_path, smoke_zoo):
    "`papermill nbs/<section>.ipynb -p ...` as a user types it (no output path): files go to papermill_runs/adhoc/<section>/, git-ignored."
    import os
    import subprocess
    import sys

    checkout = tmp_path / "checkout"  # the shape of a checkout: settings.ini, nbs/, papermill_runs/
    (checkout / "nbs").mkdir(parents=True)
    (checkout / "papermill_runs").mkdir()
    (checkout / "settings.ini").write_text((REPO / "settings.ini").read_text())
    (checkout / "nbs" / "shuffle.ipynb").write_text(SECTIONS["shuffle"].read_text())
    before = sorted(p.relative_to(checkout) for p in checkout.rglob("*"))
    env = dict(os.environ, DEFECTIVE_CNN_ZOO=smoke_zoo)
    done = subprocess.run([str(Path(sys.executable).with_name("papermill")), "nbs/shuffle.ipynb", "-p", "profile", "smoke"],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "files go to" in done.stdout and str(checkout / "papermill_runs" / "adhoc" / "shuffle") in done.stdout  # said where
    new = sorted(p.relative_to(checkout) for p in checkout.rglob("*") if p.relative_to(checkout) not in before)
    assert new and all(p.parts[:3] == ("papermill_runs", "adhoc", "shuffle") or p.parts[:2] == ("papermill_runs", "adhoc") for p in new), new
    assert any(p.suffix == ".csv" for p in new) and any(p.suffix == ".png" for p in new)
    ignored = subprocess.run(["git", "check-ignore", "-q", "papermill_runs/adhoc/shuffle/shuffle_accuracy.csv"], cwd=REPO)
    assert ignored.returncode == 0, "papermill_runs/adhoc/ must be git-ignored"
