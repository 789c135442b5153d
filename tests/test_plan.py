"""The plan of each section is what its notebook fetches; the zoo trains a network once when two processes ask at once."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from defective_cnn import plan
from defective_cnn.cli import plan_jobs
from defective_cnn.train import get_profile

ROOT = Path(__file__).resolve().parents[1]
RUNS = yaml.safe_load((ROOT / "papermill_runs" / "runs.yaml").read_text())


def notebook_networks(section: str, parameters: dict) -> dict:
    """{zoo name: config} that the section notebook's code passes to get_models, executed up to those calls (nothing trained).

    The set-up cells run as they are, then only the cells that call get_models, with get_models recording its configs
    and returning no networks (None for each): a loop that fetches several sets goes on to the next, and what a cell
    does with the networks after fetching them fails, which is expected once it has fetched."""
    cells = [c for c in json.loads((ROOT / "nbs" / f"{section}.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in cells]
    fetching = [i for i, s in enumerate(sources) if "get_models(" in s]  # the set-up cells before them, then only these
    fetched, calls = {}, []

    def capture(configs, **kwargs):
        fetched.update({config.name: config for config in configs.values()})
        calls.append(len(configs))
        return {name: None for name in configs}

    namespace = dict(display=lambda *a, **k: None, get_ipython=lambda: None)
    for i, (cell, source) in enumerate(zip(cells, sources)):
        if i > fetching[0] and i not in fetching:
            continue
        before = len(calls)
        try:
            exec(compile(source.replace("get_models(", "_capture_get_models("), f"{section}[{i}]", "exec"), namespace)
        except Exception:
            if i not in fetching or len(calls) == before:  # a set-up cell, or a failure before any fetch: a real error
                raise
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            namespace.update(parameters, output_dir=tempfile.mkdtemp())  # as papermill injects them; what a cell writes goes nowhere
        namespace["_capture_get_models"] = capture
    return fetched


def test_every_run_is_planned():
    notebooks = {p.stem for p in (ROOT / "nbs").glob("[a-z]*.ipynb")}
    fetching = {s for s in notebooks if "get_models(" in (ROOT / "nbs" / f"{s}.ipynb").read_text()}  # not the seeds report: it reads runs
    assert fetching == set(plan.SECTIONS) and set(RUNS) - fetching == {"seeds"}
    for section in fetching:
        for name, parameters in RUNS.get(section, {}).items():
            assert plan.section_networks(section, parameters), f"{section}/{name} plans no network"


@pytest.mark.parametrize("section", plan.SECTIONS)
def test_plan_is_what_the_notebook_fetches(section):
    for profile in ("smoke", "cpu"):
        planned = {c.name for c in plan.section_networks(section, dict(profile=profile)).values()}
        assert set(notebook_networks(section, dict(profile=profile))) == planned, (section, profile)


def test_named_runs_plan_as_the_notebooks_fetch():
    for section, name, parameters in plan_jobs(["transfer", "decision", "ablation"], run=None, runs_file=ROOT / "papermill_runs" / "runs.yaml"):
        planned = {c.name for c in plan.section_networks(section, parameters).values()}
        assert set(notebook_networks(section, parameters)) == planned, (section, name)


def test_unknown_section_and_run_list_the_known_ones():
    with pytest.raises(ValueError, match="unknown section.s. figure9; sections: transfer, ensemble"):
        plan_jobs(["figure9"], profile="smoke")
    with pytest.raises(ValueError, match="no run named 'nope' for transfer; its runs: transfer/cpu, transfer/cpu_wide"):
        plan_jobs(["transfer"], run="nope", runs_file=ROOT / "papermill_runs" / "runs.yaml")
    with pytest.raises(ValueError, match="unknown section 'figure9'; sections: transfer"):
        plan.section_networks("figure9", {})


def test_paper_sweep_has_a_total():
    rows = plan.plan_rows(plan.plan_networks(plan_jobs(["all"], profile="paper")), zoo_dir="/nonexistent/zoo")
    assert len(rows) > 50 and all(r["image_epochs"] > 0 for r in rows)
    text = plan.format_plan(rows, "H100")
    assert f"{len(rows)} networks: 0 in the zoo, {len(rows)} to train" in text and "not measured" in text


def test_scaling_page_prices_the_paper_sweep_as_plan_does():
    "docs/scaling.md quotes `plan all --profile paper`: its total, the networks priced and not, and each dataset's hours."
    rows = plan.plan_rows(plan.plan_networks(plan_jobs(["all"], profile="paper")), zoo_dir="/nonexistent/zoo")
    priced = [r for r in rows if r["hours"] is not None]
    hours = lambda keep: f"{sum(r['hours'] for r in priced if keep(r['dataset'])):.1f}"
    page = " ".join((ROOT / "docs" / "scaling.md").read_text(encoding="utf-8").split())
    expected = (f"prints {hours(lambda d: True)} GPU-hours for {len(priced)} of the sweep's {len(rows)} networks, almost all of it the ten "
                f"224-px image-folder networks ({hours(lambda d: d == 'imagefolder')}; CIFAR-10: {hours(lambda d: d == 'cifar10')}, "
                f"MNIST: {hours(lambda d: d == 'mnist')}, Trifeature: {hours(lambda d: d.startswith('trifeature'))}), and names the "
                f"{len(rows) - len(priced)} it cannot price")
    assert expected in page, f"docs/scaling.md should say: {expected}"
    assert sum(r["dataset"] == "imagefolder" for r in rows) == 10


_RACE = """
import json, sys, torch
torch.set_num_threads(1)
from defective_cnn.plan import train_plan
from defective_cnn.zoo import ModelConfig
config = ModelConfig.from_dict(json.loads(sys.argv[1]))
said = []
results = train_plan({"race": config}, zoo_dir=sys.argv[2], device="cpu", log=said.append)
print(json.dumps(dict(trained_now=[r["trained_now"] for r in results], summary=said[-1])))
"""


def test_two_processes_train_once(tmp_path):
    config = plan.model_config("resnet18", "0.5-Bottom", dataset="fashion-mnist", profile="smoke",
                               overrides=dict(epochs=1, milestones=(), n_train=256, n_test=64))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-c", _RACE, json.dumps(config.to_dict()), str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
    said = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sorted(any(s["trained_now"]) for s in said) == [False, True]
    summaries = sorted(s["summary"] for s in said)  # exactly one says it trained; the other loaded it (or found it stored)
    assert sum(": 1 trained, " in text for text in summaries) == 1, summaries
    assert any(": 0 trained, 1 loaded (trained by another process meanwhile)" in t or "0 trained, 0 loaded (trained by another process meanwhile), 1 already" in t
               for t in summaries), summaries
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [config.name]


def test_ray_executor_without_ray_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    networks = plan.section_networks("noise", dict(profile="smoke"))
    with pytest.raises(ImportError, match=r'pip install "defective_cnn\[ray\]"'):
        plan.train_plan(networks, "ray", zoo_dir=tmp_path)


def test_h100_throughputs_are_the_benchmark_records():
    "The plan's H100 figures are the ones the committed benchmark JSONs hold (no figure typed in by hand)."
    folder = Path(__file__).parent / "benchmarks" / "h100"
    rows = {(r["arch"], r["input_size"], r["width"]): r["images_per_s"] for r in plan.THROUGHPUTS if r["device"] == "H100"}
    expected = {}
    for size in (32, 28, 224):
        models = json.loads((folder / f"bench_models_{size}.json").read_text())
        for r in models["rows"]:
            expected[(r["arch"], size, models["config"]["width"])] = round(r["images_per_s"])
    graphs = json.loads((folder / "bench_train_graphs.json").read_text())  # the whole epoch, not the step alone
    expected[("resnet18", 32, 1.0)] = round(graphs["config"]["n_images"] / min(graphs["epoch"]["ours_cuda-graphs"][1:]))
    packing = json.loads((folder / "bench_packing.json").read_text())  # cpu-profile networks, four to a GPU
    profile = get_profile(packing["config"]["profile"], packing["config"]["dataset"])
    packed = packing["runs"][-1]
    assert packed["gpus_per_job"] == 0.25
    expected[("resnet18", 28, profile.width)] = round(packing["config"]["n_networks"] * profile.n_train * profile.epochs
                                                      / packed["seconds"])
    assert rows == expected
