"""Every committed `scale` run's gaps (`<run>_gaps.csv`) recomputed from that run's own CSV tables by today's `scale.claim_gaps`
(its claims read from the one catalogue, `repeats.COMPARISONS`): the same columns, rows and order, every number
within float-order noise (1e-9 points: the committed gaps were computed on another processor; a changed claim moves them by
points).
A change to how the ladder's claims are defined that moves a committed number fails here, and so does a later run whose gaps
today's code would not give again."""
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from defective_cnn.scale import LADDER_TABLES, claim_gaps

SCALE = Path(__file__).resolve().parents[1] / "papermill_runs" / "scale"
RUN_COLUMNS = ("profile", "dataset", "torch", "device")  # what the section's `reports.save_results` adds to the gaps it writes


def committed_runs() -> list:
    "The finished scale runs in papermill_runs/scale/ that wrote their gaps."
    runs = []
    for manifest in sorted(SCALE.glob("*.json")):
        saved = json.loads(manifest.read_text())
        if isinstance(saved, dict) and saved.get("section") == "scale" and saved.get("status") == "ok":
            runs.append(saved["run"])
    return runs


def test_some_scale_run_is_committed():
    assert committed_runs(), "no finished scale run in papermill_runs/scale/: the test below checks nothing"


@pytest.mark.parametrize("run", committed_runs())
def test_claim_gaps_reproduce_the_committed_gaps(run):
    tables = {name: pd.read_csv(SCALE / f"{run}_{name}.csv") for name in LADDER_TABLES}
    recomputed = pd.read_csv(io.StringIO(claim_gaps(tables).to_csv(index=False)))  # through a CSV, as the run wrote its own
    committed = pd.read_csv(SCALE / f"{run}_gaps.csv")
    assert [c for c in committed.columns if c not in RUN_COLUMNS] == list(recomputed.columns), (
        f"{run}_gaps.csv has columns {list(committed.columns)}; today's claim_gaps gives {list(recomputed.columns)}")
    pd.testing.assert_frame_equal(committed[list(recomputed.columns)], recomputed, check_exact=False, rtol=0, atol=1e-9)
