"""The README's claims table is the one `claims` makes from the committed CSVs, some of its rows recomputed here from the raw CSVs;
the verdict rule on hand-made rows, each path; the numbers and verdicts the results page quotes; a gpu run fills its column."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fake_runs import write_run, write_runs_file
from defective_cnn.claims import (BAND, CLAIMS, DIGEST_KEY, LADDER_FIGURE, NO_RUN, VERDICTS, Claim, autoattack_sentence, beyond_sentence,
                                  claims_markdown, claims_table, differences, format_claims, ladder_data, ladder_digest, later_attacks_sentence,
                                  later_attacks_table, scale_markdown, seed_interval, smallest_step, verdict)

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


def test_scale_blocks_are_generated_from_the_scale_runs():
    expected = scale_markdown(REPO / "papermill_runs").strip()
    for page in (REPO / "README.md", REPO / "docs" / "results.md"):
        blocks = re.findall(r"<!-- scale:begin -->\n(.*?)<!-- scale:end -->", page.read_text(encoding="utf-8"), re.S)
        assert len(blocks) == 1, f"{page.name} needs exactly one <!-- scale:begin --> ... <!-- scale:end --> block"
        assert blocks[0].strip() == expected, (
            f"{page.name}'s scale block differs from the scale runs' CSVs; regenerate it: .venv/bin/python tools/regenerate_blocks.py")


def test_scale_figure_is_drawn_from_the_scale_runs():
    "docs/scale_ladder.png carries the fingerprint of today's scale runs, claims table and drawing code; both pages show it."
    from PIL import Image

    figure = REPO / LADDER_FIGURE
    assert figure.exists(), f"{LADDER_FIGURE} is missing; draw it: .venv/bin/python tools/regenerate_blocks.py"
    recorded = Image.open(figure).text.get(DIGEST_KEY)
    assert recorded == ladder_digest(ladder_data(REPO / "papermill_runs")), (
        f"{LADDER_FIGURE} is not drawn from today's scale runs (or drawing code); redraw it: .venv/bin/python tools/regenerate_blocks.py")
    for page, link in ((REPO / "README.md", LADDER_FIGURE), (REPO / "docs" / "results.md", Path(LADDER_FIGURE).name)):
        assert f"]({link})" in page.read_text(encoding="utf-8"), f"{page.name} does not show {LADDER_FIGURE}"


def test_results_page_says_what_the_readme_says_of_the_later_attacks():
    blocks = BEYOND_BLOCK.findall((REPO / "docs" / "results.md").read_text(encoding="utf-8"))
    assert len(blocks) == 1, "docs/results.md needs exactly one <!-- beyond:begin --> ... <!-- beyond:end --> block"
    sentence = beyond_sentence(claims_table(REPO / "papermill_runs"), "cpu")
    autoattack = autoattack_sentence(REPO / "papermill_runs", "cpu")
    later, table = later_attacks_sentence(REPO / "papermill_runs", "cpu"), later_attacks_table(REPO / "papermill_runs", "cpu")
    assert sentence and autoattack and later and blocks[0].strip() == "\n\n".join([sentence, autoattack, later, table]), (
        "docs/results.md's sentence on the later attacks differs from the CSVs' (or they have no cpu run); regenerate it with "
        "`python -c \"from defective_cnn.claims import *; print(beyond_sentence(claims_table(), 'cpu')); print(); print(autoattack_sentence()); "
        "print(); print(later_attacks_sentence()); print(); print(later_attacks_table())\"`")


def seeds(gaps, metric="rate", reference=0.5):
    "Rows of a toy section: per seed one 'standard' row at `reference` and one '0.1-Bottom' row `gap` above it."
    rows = []
    for seed, gap in enumerate(gaps):
        rows += [dict(group="g", run=f"r{seed}", seed=seed, defect="standard", **{metric: reference}, n_eval=100 + seed),
                 dict(group="g", run=f"r{seed}", seed=seed, defect="0.1-Bottom", **{metric: reference + gap}, n_eval=90)]
    return pd.DataFrame(rows)


TOY = Claim("Table 3", "defective ahead", dict(defect="0.1-Bottom"), dict(defect="standard"), metric="rate")  # a toy metric


@pytest.mark.parametrize("gaps, paper, expected", [
    ([0.30, 0.32, 0.34], 60.0, "in direction"),  # a difference: interval above 0, mean half the paper's
    ([0.30, 0.32, 0.34], 35.0, "in size"),  # the mean within 25 % of the paper's value
    ([0.05, 0.30, 0.06], 30.0, "too close to call"),  # in size across zero: one seed at the paper's value, the interval across 0
    ([0.17, 0.18, 0.26], 30.0, "in direction"),  # the interval holds the paper's value, the mean (20.3) is outside the band
    ([-0.30, -0.32, -0.34], 50.0, "not reproduced"),  # behind, beyond the sampling error
    ([-0.02, 0.02, 0.01], 50.0, "too close to call"),  # the seeds disagree
    ([0.03, 0.04, 0.05], 50.0, "too close to call"),  # every seed ahead, but by less than the images' sampling error (n 90-102)
    ([0.10, 0.20], 15.0, "open"),  # two seeds are too few, even with the paper's value inside
    ([0.30, 0.32, 0.34], 0.0, "not reproduced"),  # the paper: no effect; ours: a clear one
])
def test_verdict_on_hand_made_rows(gaps, paper, expected):
    found = differences(TOY, seeds(gaps))
    assert list(found.value.round(9)) == [round(100 * g, 9) for g in gaps]  # points, inside each seed
    assert (found.n_lowest == 90).all() and list(found.n_highest) == [100 + s for s in range(len(gaps))]
    errors = [100 * ((0.5 * 0.5 / (100 + s) + (0.5 + g) * (0.5 - g) / 90) ** 0.5) for s, g in enumerate(gaps)]  # binomial, by hand
    assert list(found.error.round(9)) == [round(e, 9) for e in errors]
    assert verdict(found.value, paper, errors=found.error) == expected


def test_verdict_on_a_ratio_of_medians_bootstraps_the_images():
    "Table 4's path: per seed the row's median over images divided by the reference's, its error a paired bootstrap over images."
    rng = np.random.default_rng(1)
    rows = []
    for seed, factor in enumerate([1.5, 1.6, 1.7]):
        base = rng.uniform(1, 2, 200)
        rows += [dict(group="g", run="r", model_seed=seed, image=i, row_label=label, mse=v)
                 for label, values in (("standard", base), ("defective", factor * base)) for i, v in enumerate(values)]
    claim = Claim("Table 4", "ratio", dict(row_label="defective"), dict(row_label="standard"), metric="mse", kind="ratio",
                  seed_column="model_seed", aggregate="median", n_column="rows", unit="image")
    found = differences(claim, pd.DataFrame(rows))
    assert list(found.value.round(9)) == [1.5, 1.6, 1.7] and (found.n_lowest == 200).all()
    assert (found.error < 1e-9).all()  # every image scaled alike: each resample gives the same ratio
    assert verdict(found.value, 1.7, kind="ratio", errors=found.error) == "in size"
    assert verdict(found.value, 4.8, kind="ratio", errors=found.error) == "in direction"
    noisy = pd.DataFrame(rows).assign(mse=lambda f: f.mse * np.where(f.row_label == "defective", rng.uniform(0.1, 1.9, len(f)), 1))
    spread = differences(claim, noisy)
    assert (spread.error > 0.05).all()  # per-image noise shows in the bootstrap
    assert verdict([1.0, 1.1, 1.2], 4.8, kind="ratio", errors=[0.1] * 3) == "too close to call"


def test_verdict_on_the_smallest_step():
    "Figure 5's path: per seed the smallest gain as p falls, with the binomial error of that step."
    keep = [0.1, 0.3, 0.5, 0.7, 1.0]
    rows = pd.DataFrame([dict(group="g", run="r", target_seed=s, keep_prob=p, success_defense_rate=r, n_eval=600)
                         for s, rates in enumerate([[0.90, 0.85, 0.80, 0.70, 0.6], [0.88, 0.86, 0.80, 0.72, 0.6], [0.92, 0.86, 0.81, 0.70, 0.5]])
                         for p, r in zip(keep, rates)])
    found = smallest_step(rows)
    assert list(found.value.round(9)) == [5.0, 2.0, 5.0]
    assert found.error.round(9).tolist()[1] == round(100 * ((0.88 * 0.12 + 0.86 * 0.14) / 600) ** 0.5, 9)
    assert verdict(found.value, 18.0, errors=found.error) == "too close to call"  # 2 to 5 points with 2-point errors: not shown


def test_interval_combines_seed_spread_and_sampling_error():
    from scipy.stats import t
    values, errors = [10.0, 12.0, 17.0], [1.0, 2.0, 1.5]
    mean, low, high = seed_interval(values, errors)
    spread = np.var(values, ddof=1)
    assert (mean, round(high - mean, 9)) == (13.0, round(t.ppf(0.975, 2) * (spread / 3) ** 0.5, 9))  # the spread is larger
    mean, low, high = seed_interval([5.0, 5.0, 5.0], [3.0, 3.0, 3.0])  # seeds agree by chance: the sampling error is the floor
    assert round(high - mean, 9) == round(t.ppf(0.975, 2) * (9.0 / 3) ** 0.5, 9)


def test_verdict_refuses_what_it_cannot_judge():
    assert verdict([], 3.0) == NO_RUN
    with pytest.raises(ValueError, match="sign"):
        verdict([1.0, 2.0, 3.0], None)  # no paper number and no stated side
    with pytest.raises(ValueError, match="several rows"):
        differences(TOY, pd.concat([seeds([0.1]), seeds([0.2])]))  # one seed twice in a group


def fake_gpu_run(folder: Path, seed: int, standard: float, defective: float):
    table3 = pd.DataFrame(dict(source_name="resnet18", target_arch="resnet18", defect=["standard", "0.3-Bottom"], n_eval=[4600, 4500],
                               success_defense_rate=[standard, defective], profile="gpu", seed=seed))
    return write_run(folder, "transfer", f"gpu_seed{seed}", dict(profile="gpu", seed=seed), dict(table3=table3))


def test_a_gpu_run_fills_the_gpu_column(tmp_path):
    runs = [fake_gpu_run(tmp_path, seed, standard, defective) for seed, (standard, defective) in enumerate([(0.2, 0.6), (0.3, 0.5), (0.25, 0.8)])]
    (tmp_path / "runs.yaml").write_text("transfer:\n" + "".join(f"  {r}: {{profile: gpu, seed: {i}}}\n" for i, r in enumerate(runs)))
    table3 = [c for c in CLAIMS if c.where == "Table 3" and c.row == dict(defect="0.3-Bottom") and "ResNet-18" in c.claim]
    table = claims_table(tmp_path, claims=table3)
    row = table.iloc[0]
    assert row.gpu_seeds == 3 and row.cpu_seeds == 0
    assert (round(row.gpu_lowest, 6), round(row.gpu_highest, 6), round(row.gpu_mean, 6)) == (20.0, 55.0, round(100 * (0.4 + 0.2 + 0.55) / 3, 6))
    assert (row.gpu_n_lowest, row.gpu_n_highest) == (4500, 4600)
    assert row.gpu_verdict == "too close to call" and row.cpu_verdict == NO_RUN  # 20 to 55 points over three seeds
    markdown = claims_markdown(table)
    assert "+38.3 [−5.3 to +82.0]; seeds +40.0, +20.0, +55.0; n 4500–4600 | too close to call" in markdown
    assert f"| {NO_RUN} | — |" in markdown  # the cpu column
    assert "too close to call" in format_claims(tmp_path) and "stale" not in markdown
    (tmp_path / "runs.yaml").write_text("transfer:\n" + "".join(f"  {r}: {{profile: gpu, seed: {i}, n_eval: 7}}\n" for i, r in enumerate(runs)))
    assert "from a stale run" in claims_markdown(claims_table(tmp_path, claims=table3))  # its parameters are no longer the run file's


def test_later_attack_rows_read_the_sections_csvs(tmp_path):
    "The beyond-the-paper rows match the later_attacks section's CSV layout (its target and source names, attack labels)."
    runs = {}
    for seed in range(3):
        frame = pd.DataFrame(dict(source_name="resnet18", target_name=["Standard CNN", "0.1-Bottom", "Adversarial Training"],
                                  attack_label="DI-FGSM16", defect=["standard", "0.1-Bottom", "standard"], n_eval=200,
                                  success_defense_rate=[0.5, 0.6 + 0.1 * seed, 0.9], profile="gpu", seed=seed))
        parameters = dict(profile="gpu", seed=seed)
        runs[write_run(tmp_path, "later_attacks", "gpu" if seed == 0 else f"gpu_seed{seed}", parameters, dict(transfer=frame))] = parameters
    write_runs_file(tmp_path, "later_attacks", runs)
    di = [c for c in CLAIMS if c.section == "later_attacks" and "DI-FGSM" in c.claim and c.cells["source_name"] == "resnet18"]
    assert len(di) == 1
    row = claims_table(tmp_path, claims=di).iloc[0]
    assert row.gpu_seeds == 3 and (round(row.gpu_lowest, 6), round(row.gpu_highest, 6)) == (10.0, 30.0)
    assert row.gpu_verdict == "no claim; too close to call"  # not judged against the paper: 10 to 30 points over three seeds
    markdown = claims_markdown(claims_table(tmp_path, claims=di))
    assert "Beyond the paper, at `gpu` (3 seeds;" in markdown and "at `cpu`" not in markdown  # a sentence for the profile that has runs
    assert ("from a standard resnet18 source the 0.1-Bottom network is too close to call against DI-FGSM (+20.0 points [−4.8 to +44.8], "
            "seeds +10.0, +20.0, +30.0).") in markdown


RUNS = REPO / "papermill_runs"


def _raw(section: str, pattern: str) -> pd.DataFrame:
    "The CSVs of `section` matching `pattern`, read with pandas alone (not through the claims module)."
    return pd.concat([pd.read_csv(p) for p in sorted((RUNS / section).glob(pattern))], ignore_index=True)


def _interval(values, errors):
    "The rule's interval, written out again: mean ± t(k−1)·√(max(s², mean se²)/k)."
    from scipy.stats import t
    values, errors = np.asarray(values, float), np.asarray(errors, float)
    k = len(values)
    half = t.ppf(0.975, k - 1) * np.sqrt(max(values.var(ddof=1), (errors ** 2).mean()) / k)
    return values.mean(), values.mean() - half, values.mean() + half


def _row(table, claim_text):
    found = table[table.claim == claim_text]
    assert len(found) == 1, claim_text
    return found.iloc[0]


@pytest.fixture(scope="module")
def committed():
    return claims_table(RUNS)


def test_rows_recomputed_from_the_raw_csvs(committed):
    "A few rows of the README's table recomputed from the runs' CSVs with pandas directly: a rate gap, a pooled gap, a ratio of medians."
    # Table 2, FGSM: defective minus standard adversarial accuracy on all 1000 images, per seed (runs cpu, table2_seed1, table2_seed2)
    t2 = pd.concat([_raw("transfer", "cpu_table2.csv"), _raw("transfer", "table2_seed*_table2.csv")])
    t2 = t2[t2.attack_label == "FGSM8"].pivot_table(index="seed", columns="target_name", values=["adversarial_accuracy", "n_images"])
    p1, p0, n = t2.adversarial_accuracy["Defective CNN"], t2.adversarial_accuracy["Standard CNN"], t2.n_images["Standard CNN"]
    values, errors = 100 * (p1 - p0), 100 * np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / n)
    row = _row(committed, "defective ahead of standard, transferred FGSM")
    assert np.allclose(row.cpu_values, values) and np.allclose([row.cpu_mean, row.cpu_low, row.cpu_high], _interval(values, errors))
    assert row.cpu_verdict == "in direction"
    # Table 6, 0.5-Bottom: success defense rate gap averaged over the three ensembles inside each seed
    t6 = _raw("ensemble", "cpu*_table6.csv")
    t6 = t6[t6.target_arch == "resnet18"].pivot_table(index=["seed", "source"], columns="defect", values=["success_defense_rate", "n_eval"])
    r1, r0 = t6.success_defense_rate["0.5-Bottom"], t6.success_defense_rate["standard"]
    gap = (100 * (r1 - r0)).groupby(level="seed").mean()
    err = (100 * np.sqrt(r1 * (1 - r1) / t6.n_eval["0.5-Bottom"] + r0 * (1 - r0) / t6.n_eval["standard"])).groupby(level="seed").mean()
    row = _row(committed, "0.5-Bottom ahead of standard, PGD from ensembles (mean of 3)")
    assert np.allclose(row.cpu_values, gap) and np.allclose([row.cpu_mean, row.cpu_low, row.cpu_high], _interval(gap, err))
    assert row.cpu_verdict == "too close to call" and abs(row.cpu_mean - row.paper) > BAND * abs(row.paper)  # seeds 17 / 33 / 18 against 33.2
    # Table 4: the mean over seeds of the same-seed ratio of median distances at the largest step budget
    t4 = _raw("decision", "cpu_distances.csv")
    t4 = t4[t4.steps == t4.steps.max()].groupby(["model_seed", "row_label"]).mse.median().unstack()
    ratios = t4["Defective CNN"] / t4["Standard CNN"]
    row = _row(committed, "defective needs a larger Boundary perturbation: S(M) / S(standard)")
    assert np.allclose(row.cpu_values, ratios) and np.isclose(row.cpu_mean, ratios.mean())
    # Figure 4: noise draws averaged, then σ 20-32 pooled, inside each seed
    noise = _raw("noise", "cpu*_accuracy.csv")
    noise = noise[noise.sigma.isin([20, 24, 28, 32])].groupby(["seed", "sigma", "defect"]).accuracy.mean().unstack()
    gap = (100 * (noise["0.1-Bottom"] - noise["standard"])).groupby(level="seed").mean()
    assert np.allclose(_row(committed, "0.1-Bottom more accurate under Gaussian noise, σ 20–32").cpu_values, gap)


def test_no_lucky_in_size_and_no_verdict_beyond_the_paper(committed):
    "The issue's done-when: no 'in size' whose mean is outside the band; an interval across 0 is too close to call; no row beyond the paper judged."
    judged = committed[committed.cpu_seeds >= 3]
    for _, r in judged[judged.cpu_verdict == "in size"].iterrows():
        assert abs(r.cpu_mean - r.paper) <= BAND * abs(r.paper), r.claim
    for _, r in judged.iterrows():
        centre = 1.0 if r.kind == "ratio" else 0.0
        assert (r.cpu_low <= centre <= r.cpu_high) == r.cpu_verdict.endswith("too close to call"), r.claim
    beyond = committed[committed["where"] == "beyond the paper"]
    ran = beyond.cpu_seeds > 0  # a row beyond the paper without a run yet (the adaptive section's before its runs) says so
    assert beyond[ran].cpu_verdict.str.startswith("no claim").all() and not beyond.cpu_verdict.isin(VERDICTS).any()
    assert (beyond[~ran].cpu_verdict == NO_RUN).all()


VERDICT_QUOTE = re.compile(r'"([^"]+)" is (in size|in direction|too close to call|not reproduced|open)')


def test_results_page_quotes_the_claims_tables_verdicts(committed):
    "Every verdict the results page quotes ('\"<claim>\" is <verdict>') is the claims table's for the claim it names."
    text = " ".join((REPO / "docs" / "results.md").read_text(encoding="utf-8").split())
    quotes = VERDICT_QUOTE.findall(text)
    assert len(quotes) >= 4
    for quoted, said in quotes:
        rows = committed[committed.claim.str.startswith(quoted)]
        assert len(rows) == 1, f"results.md quotes {quoted!r}, which names {len(rows)} claims"
        assert rows.iloc[0].cpu_verdict == said, f"results.md says {quoted!r} is {said}; the claims table: {rows.iloc[0].cpu_verdict}"


def test_results_page_sentences_with_numbers_match_the_csvs(committed):
    "Sentences of docs/results.md whose numbers the issue found wrong, each recomputed from the runs' CSVs."
    text = " ".join((REPO / "docs" / "results.md").read_text(encoding="utf-8").split())
    # the ensembles of two (runs cpu_x2_en*): mean change from one network, and the single seeds' range
    x2 = _raw("ablation", "cpu_x2_en*_table.csv")
    x2 = x2[x2.column_label.isin(["FGSM16", "PGD16", "PGD32"])].pivot_table(index=["column_label", "seed"], columns="row_label",
                                                                           values="success_defense_rate")
    signed = lambda v: f"{v:+.1f}".replace("-", "−")
    said = []
    for ensemble, single, words in (("0.5-Bottom_EN", "0.5-Bottom", "points from one 0.5-Bottom network on average"),
                                    ("ResNet-18_EN", "ResNet-18", "from one standard network")):
        gap = 100 * (x2[ensemble] - x2[single])
        means = gap.groupby(level="column_label").mean().loc[["FGSM16", "PGD16", "PGD32"]]
        said.append(" / ".join(map(signed, means)) + f" {words} (single seeds {signed(gap.min())} to {signed(gap.max())}")
    for sentence in said:
        assert sentence in text, f"results.md should say {sentence!r}"
    # Table 4: the run's own ratio of seed-means and the claims table's mean of same-seed ratios, both named
    run = pd.read_csv(RUNS / "decision" / "cpu_table4.csv").set_index("row_label").loc["Defective CNN"]
    assert f"its ratio is that of the seed-means of the medians ({run.ratio_to_reference:.2f} for the defective row)" in text
    mean_ratio = _row(committed, "defective needs a larger Boundary perturbation: S(M) / S(standard)").cpu_mean
    assert f"ratio** (seed k's row against the standard network of seed k), {mean_ratio:.2f}× for the defective row" in text
    # the later attacks: what the page concludes is what the generated sentence finds
    later = later_attacks_sentence(RUNS, "cpu")
    if "no later attack was measurably stronger than PGD16" in text:
        assert later.count("none lower than PGD16's beyond its interval") == 2 and "lower than PGD16's beyond their" not in later
    if "adversarial training stays ahead of the 0.1-Bottom network throughout" in text:
        assert "behind adversarial training against every later transfer attack from both sources, in every seed" in later


def test_readme_says_how_many_seeds_the_rows_rest_on(committed):
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert "three for most rows" in readme
    paper_rows = committed[committed["where"] != "beyond the paper"]
    assert (paper_rows.cpu_seeds == 3).sum() > len(paper_rows) / 2
    table4 = paper_rows[paper_rows["where"] == "Table 4"]
    assert "Table 4's are the network seeds inside one run, on the same 100 images" in readme
    assert (table4.cpu_runs == "cpu").all() and (table4.cpu_n_lowest == 100).all()


ADAPTIVE_BLOCK = re.compile(r"<!-- adaptive:begin -->\n(.*?)<!-- adaptive:end -->", re.S)


def test_the_adaptive_sentence_is_generated_from_the_csvs(committed):
    "README.md and docs/results.md say what `adaptive_sentence` finds in the committed adaptive runs (before any: that there is none)."
    from defective_cnn.claims import adaptive_sentence

    sentence = adaptive_sentence(committed, "cpu")
    for path in (REPO / "README.md", REPO / "docs" / "results.md"):
        blocks = ADAPTIVE_BLOCK.findall(path.read_text(encoding="utf-8"))
        assert blocks == [sentence + "\n"], f"{path.name}: regenerate its adaptive block with tools/regenerate_blocks.py"
    if committed[committed.section == "adaptive"].cpu_seeds.max() == 0:
        assert NO_RUN in sentence and "not known" in sentence  # no number before a run
