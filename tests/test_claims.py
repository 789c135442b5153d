"The README's claims table is the one `claims` makes from the committed CSVs; the verdict rule on hand-made rows; a gpu run fills its column."
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from defective_cnn import runner
from defective_cnn.claims import CLAIMS, NO_RUN, Claim, autoattack_sentence, beyond_sentence, claims_markdown, claims_table, differences, format_claims, verdict

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- claims:begin -->\n(.*?)<!-- claims:end -->", re.S)
BEYOND_BLOCK = re.compile(r"<!-- beyond:begin -->\n(.*?)<!-- beyond:end -->", re.S)


def test_readme_claims_block_is_generated_from_the_csvs():
    blocks = BLOCK.findall((REPO / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 1, "README.md needs exactly one <!-- claims:begin --> ... <!-- claims:end --> block"
    expected = claims_markdown(claims_table(REPO / "papermill_runs"))
    assert blocks[0].strip() == expected.strip(), (
        "README.md's claims table differs from the CSVs; regenerate it with "
        "`python -c \"from defective_cnn.claims import *; print(claims_markdown(claims_table()))\"`")


def test_results_page_says_what_the_readme_says_of_the_later_attacks():
    blocks = BEYOND_BLOCK.findall((REPO / "docs" / "results.md").read_text(encoding="utf-8"))
    assert len(blocks) == 1, "docs/results.md needs exactly one <!-- beyond:begin --> ... <!-- beyond:end --> block"
    sentence = beyond_sentence(claims_table(REPO / "papermill_runs"), "cpu")
    autoattack = autoattack_sentence(REPO / "papermill_runs", "cpu")
    assert sentence and autoattack and blocks[0].strip() == sentence + "\n\n" + autoattack, (
        "docs/results.md's sentence on the later attacks differs from the CSVs' (or they have no cpu run); regenerate it with "
        "`python -c \"from defective_cnn.claims import *; print(beyond_sentence(claims_table(), 'cpu')); print(); print(autoattack_sentence())\"`")


def seeds(gaps, metric="rate", reference=0.5):
    "Rows of a toy section: per seed one 'standard' row at `reference` and one '0.1-Bottom' row `gap` above it."
    rows = []
    for seed, gap in enumerate(gaps):
        rows += [dict(group="g", run=f"r{seed}", seed=seed, defect="standard", **{metric: reference}, n_eval=100 + seed),
                 dict(group="g", run=f"r{seed}", seed=seed, defect="0.1-Bottom", **{metric: reference + gap}, n_eval=90)]
    return pd.DataFrame(rows)


TOY = Claim("toy", "defective ahead", "toy", "toy", "rate", dict(defect="0.1-Bottom"), dict(defect="standard"))


@pytest.mark.parametrize("gaps, paper, expected", [
    ([0.10, 0.20, 0.30], 50.0, "in direction"),  # ahead in every seed, the paper's gap larger than ours
    ([0.10, 0.20, 0.30], 25.0, "in size"),  # the paper's gap inside our range
    ([-0.10, -0.05, -0.01], 50.0, "not reproduced"),  # behind in every seed
    ([-0.10, 0.05, 0.01], 50.0, "open"),  # the seeds disagree
    ([0.10, 0.20], 15.0, "open"),  # two seeds are too few, even with the paper's value inside
    ([0.01, 0.02, 0.03], 0.0, "not reproduced"),  # the paper: no effect; ours: a consistent one
])
def test_verdict_on_hand_made_rows(gaps, paper, expected):
    found = differences(TOY, seeds(gaps))
    assert list(found.value.round(9)) == [round(100 * g, 9) for g in gaps]  # points, inside each seed
    assert (found.n_lowest == 90).all() and list(found.n_highest) == [100 + s for s in range(len(gaps))]
    assert verdict(found.value, paper) == expected


def test_verdict_refuses_what_it_cannot_judge():
    assert verdict([], 3.0) == NO_RUN
    with pytest.raises(ValueError, match="sign"):
        verdict([1.0, 2.0, 3.0], None)  # no paper number and no stated side
    with pytest.raises(ValueError, match="several rows"):
        differences(TOY, pd.concat([seeds([0.1]), seeds([0.2])]))  # one seed twice in a group


def fake_gpu_run(folder: Path, seed: int, standard: float, defective: float):
    (folder / "transfer").mkdir(parents=True, exist_ok=True)
    run = f"gpu_seed{seed}"
    notebook = REPO / "nbs" / "transfer.ipynb"  # a current manifest: the notebook and package code of now, no network or data read
    (folder / "transfer" / f"{run}.json").write_text(json.dumps(
        dict(format=runner.MANIFEST_FORMAT, section="transfer", run=run, status="ok", parameters=dict(profile="gpu", seed=seed),
             notebook_code=runner.notebook_code_hash(notebook), sources=runner.source_hashes(notebook), networks={}, data={})))
    (folder / "transfer" / f"{run}.ipynb").write_text("{}")
    pd.DataFrame(dict(source_name="resnet18", target_arch="resnet18", defect=["standard", "0.3-Bottom"], n_eval=[4600, 4500],
                      success_defense_rate=[standard, defective], profile="gpu", seed=seed)
                 ).to_csv(folder / "transfer" / f"{run}_table3.csv", index=False)
    return run


def test_a_gpu_run_fills_the_gpu_column(tmp_path):
    runs = [fake_gpu_run(tmp_path, seed, standard, defective) for seed, (standard, defective) in enumerate([(0.2, 0.6), (0.3, 0.5), (0.25, 0.8)])]
    (tmp_path / "runs.yaml").write_text("transfer:\n" + "".join(f"  {r}: {{profile: gpu, seed: {i}}}\n" for i, r in enumerate(runs)))
    table3 = [c for c in CLAIMS if c.where == "Table 3" and c.row == dict(defect="0.3-Bottom") and "ResNet-18" in c.claim]
    table = claims_table(tmp_path, claims=table3)
    row = table.iloc[0]
    assert row.gpu_seeds == 3 and row.cpu_seeds == 0
    assert (round(row.gpu_lowest, 6), round(row.gpu_highest, 6), round(row.gpu_mean, 6)) == (20.0, 55.0, round(100 * (0.4 + 0.2 + 0.55) / 3, 6))
    assert (row.gpu_n_lowest, row.gpu_n_highest) == (4500, 4600)
    assert row.gpu_verdict == "in direction" and row.cpu_verdict == NO_RUN
    markdown = claims_markdown(table)
    assert "+38.3 (+20.0 to +55.0), 3 seeds, n 4500–4600 | in direction" in markdown
    assert f"| {NO_RUN} | — |" in markdown  # the cpu column
    assert "in direction" in format_claims(tmp_path) and "stale" not in markdown
    (tmp_path / "runs.yaml").write_text("transfer:\n" + "".join(f"  {r}: {{profile: gpu, seed: {i}, n_eval: 7}}\n" for i, r in enumerate(runs)))
    assert "from a stale run" in claims_markdown(claims_table(tmp_path, claims=table3))  # its parameters are no longer the run file's


def test_later_attack_rows_read_the_sections_csvs(tmp_path):
    "The beyond-the-paper rows match the later_attacks section's CSV layout (its target and source names, attack labels)."
    folder = tmp_path / "later_attacks"
    folder.mkdir()
    notebook = REPO / "nbs" / "later_attacks.ipynb"
    rows = []
    for seed in range(3):
        run = "gpu" if seed == 0 else f"gpu_seed{seed}"
        (folder / f"{run}.json").write_text(json.dumps(dict(
            format=runner.MANIFEST_FORMAT, section="later_attacks", run=run, status="ok", parameters=dict(profile="gpu", seed=seed),
            notebook_code=runner.notebook_code_hash(notebook), sources=runner.source_hashes(notebook), networks={}, data={})))
        (folder / f"{run}.ipynb").write_text("{}")
        frame = pd.DataFrame(dict(source_name="resnet18", target_name=["Standard CNN", "0.1-Bottom", "Adversarial Training"],
                                  attack_label="DI-FGSM16", defect=["standard", "0.1-Bottom", "standard"], n_eval=200,
                                  success_defense_rate=[0.5, 0.6 + 0.1 * seed, 0.9], profile="gpu", seed=seed))
        frame.to_csv(folder / f"{run}_transfer.csv", index=False)
        rows.append(run)
    (tmp_path / "runs.yaml").write_text("later_attacks:\n" + "".join(f"  {r}: {{profile: gpu, seed: {i}}}\n" for i, r in enumerate(rows)))
    di = [c for c in CLAIMS if c.section == "later_attacks" and "DI-FGSM" in c.claim and c.cells["source_name"] == "resnet18"]
    assert len(di) == 1
    row = claims_table(tmp_path, claims=di).iloc[0]
    assert row.gpu_seeds == 3 and (round(row.gpu_lowest, 6), round(row.gpu_highest, 6)) == (10.0, 30.0)
    assert row.gpu_verdict == "in direction"  # no paper value: ahead in every seed
    markdown = claims_markdown(claims_table(tmp_path, claims=di))
    assert "Beyond the paper, at `gpu` (3 seeds;" in markdown and "at `cpu`" not in markdown  # a sentence for the profile that has runs
    assert "from a standard resnet18 source the 0.1-Bottom network is ahead in every seed against DI-FGSM (+20.0 points, seeds +10.0 to +30.0)." in markdown
