"""The seeds report draws the Trifeature and adaptive sections' own figures over every run of the profile (hand-made runs here)."""
from pathlib import Path

import pandas as pd
from PIL import Image

from defective_cnn.execution import run_many
from fake_runs import write_run, write_runs_file

REPO = Path(__file__).resolve().parents[1]


def trifeature_rows(seed: int) -> dict:
    networks = [("standard", "standard", 1.0)] + [(f"{p}-Bottom", "bottom", p) for p in (0.5, 0.1)] + [("0.5-Top", "top", 0.5)]
    conflict = [dict(task="conflict", network=name, family=family, keep_prob=p, shape_bias=0.3 + 0.1 * seed + (1 - p) / 4,
                     n_shape=30, n_texture=70, n_decided=100, profile="cpu", seed=seed) for name, family, p in networks]
    decodability = [dict(task=task, network=name, family=family, keep_prob=p, test_acc=0.6 + 0.1 * seed, n_eval=100, chance=0.1,
                         profile="cpu", seed=seed) for task in ("shape", "texture", "colour") for name, family, p in networks[:2]]
    return dict(conflict=conflict, decodability=decodability)


def sweep_rows(seed: int) -> list:
    return [dict(target_name=name, kind=kind, eps=float(e), eps_label="unbounded" if e == 255 else f"{e:g}", success_rate=min(1.0, e / 64 * (1.2 if kind == "white-box" else 0.5) + 0.05 * seed),
                 n_eval=100, profile="cpu", seed=seed) for name in ("Standard CNN", "0.1-Bottom") for kind in ("transfer", "white-box")
            for e in (4, 8, 16, 32, 64, 255)]


def test_the_seeds_report_draws_the_sections_figures_over_every_seed(tmp_path):
    for section, results in (("trifeature", trifeature_rows), ("adaptive", lambda seed: dict(sweep=sweep_rows(seed)))):
        runs = {}
        for seed in range(2):
            parameters = dict(profile="cpu", seed=seed)
            runs[write_run(tmp_path, section, "cpu" if seed == 0 else f"cpu_seed{seed}", parameters, results(seed))] = parameters
        yaml = tmp_path / "runs.yaml"
        previous = yaml.read_text() if yaml.exists() else ""
        write_runs_file(tmp_path, section, runs)
        yaml.write_text(previous + yaml.read_text())
    (result,) = run_many([("seeds", "cpu", {"profile": "cpu"})], REPO / "nbs", tmp_path, log=lambda _: None)
    assert result.status == "ok", result
    for stem in ("trifeature_shape_bias", "trifeature_decodability", "adaptive_sweep"):
        with Image.open(tmp_path / "seeds" / f"cpu_{stem}.png") as image:
            assert image.size[0] > 400, stem
    text = (tmp_path / "seeds" / "cpu.ipynb").read_text()
    assert "no run at cpu wrote" not in text and "Error" not in text
