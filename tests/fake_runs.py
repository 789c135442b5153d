"""Runs of a section made by hand, for tests that read runs (claims, seeds): a current manifest, an empty notebook and the CSVs."""
import json
from pathlib import Path

import pandas as pd

from defective_cnn import freshness

REPO = Path(__file__).resolve().parents[1]


def write_run(runs_dir: Path, section: str, run: str, parameters: dict, results: dict) -> str:
    """Write `runs_dir/<section>/<run>.json` (current: the notebook and package code of now, no network or data read), an empty
    `<run>.ipynb` and each `results` frame as `<run>_<name>.csv`; returns `run`."""
    folder = Path(runs_dir) / section
    folder.mkdir(parents=True, exist_ok=True)
    notebook = REPO / "nbs" / f"{section}.ipynb"
    (folder / f"{run}.json").write_text(json.dumps(dict(
        format=freshness.MANIFEST_FORMAT, section=section, run=run, status="ok", parameters=parameters,
        notebook_code=freshness.notebook_code_hash(notebook), sources=freshness.source_hashes(notebook), networks={}, data={})))
    (folder / f"{run}.ipynb").write_text("{}")
    for name, frame in results.items():
        pd.DataFrame(frame).to_csv(folder / f"{run}_{name}.csv", index=False)
    return run


def write_runs_file(runs_dir: Path, section: str, runs: dict) -> None:
    "`runs_dir/runs.yaml` listing `runs` ({run: parameters}) of `section`."
    lines = "".join(f"  {run}: {{{', '.join(f'{k}: {v}' for k, v in parameters.items())}}}\n" for run, parameters in runs.items())
    (Path(runs_dir) / "runs.yaml").write_text(f"{section}:\n{lines}")
