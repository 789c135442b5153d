"""Every number and quantifier of docs/results.md's sections, recomputed from the committed CSVs with pandas directly
(papermill_runs/seeds/cpu_*.csv, their *_gaps.csv and the sections' own CSVs), the paper's from `paper.printed_table`, the
settings from `settings` and the train profiles. A failure names the sentence the CSVs now give and the page lacks.
Nothing here holds a measured number: runs re-executed later change the expected text, never the test."""
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from defective_cnn.paper import printed_table

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "papermill_runs"
PAGE = " ".join((REPO / "docs" / "results.md").read_text(encoding="utf-8").split())
README = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())


def says(sentence: str, where: str, text: str = PAGE):
    assert sentence in text, f"docs/results.md, {where}: the CSVs give {sentence!r}, which the page does not say"


def seeds(name: str) -> pd.DataFrame:
    "A `seeds` report CSV (papermill_runs/seeds/cpu_<name>.csv), its group decoded."
    frame = pd.read_csv(RUNS / "seeds" / f"cpu_{name}.csv")
    return frame.assign(group=frame.group.map(json.loads))


def raw(section: str, pattern: str) -> pd.DataFrame:
    "The section CSVs matching `pattern`, one frame."
    paths = sorted((RUNS / section).glob(pattern))
    assert paths, f"no {section}/{pattern}"
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def pc(x, digits=1):
    "A fraction in percent, as the page prints it."
    return f"{100 * x:.{digits}f}"


def span(low, high, digits=1):
    "lowest–highest of fractions, in percent (points for gaps)."
    return f"{pc(low, digits)}–{pc(high, digits)}"


def mlh(mean, low, high):
    return f"{pc(mean)} % ({span(low, high)})"


def minus(text: str) -> str:
    return text.replace("-", "−")


def only(frame: pd.DataFrame, **cells) -> pd.Series:
    for key, value in cells.items():
        frame = frame[frame[key] == value]
    assert len(frame) == 1, f"{cells}: {len(frame)} rows"
    return frame.iloc[0]


def plain_group(frame):
    "Rows of the profile-only group (the section's default runs)."
    return frame[frame.group.map(lambda g: set(g) == {"profile"})]


def pp(value, digits=1):
    "A number the paper prints, rounded half up as a reader would (60.65 -> 60.7, where binary float formatting gives 60.6)."
    from decimal import ROUND_HALF_UP, Decimal
    return str(Decimal(repr(round(float(value), 6))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def paper_value(table: int, row: int, column: str) -> float:
    "The paper's printed number (percent) at position `row` of `table`'s rows and `column`."
    return float(printed_table(table).iloc[row][column])


# ---------------------------------------------------------------------------------------------------- settings facts

def test_settings_facts_are_the_profiles():
    from defective_cnn.settings import SETTINGS
    from defective_cnn.train import get_profile
    cpu, paper = get_profile("cpu", "fashion-mnist"), get_profile("paper", "cifar10")
    widths = {0.25: "quarter-width", 0.5: "half-width", 1.0: "full-width"}
    for text, where in ((PAGE, "docs/results.md"), (README, "README.md")):
        assert widths[cpu.width] in text and f"{cpu.n_train:,}".replace(",", " ") + " Fashion-MNIST images" in text, where
        assert f"{cpu.epochs} epochs" in text, where
    says(f"quarter-width networks on {cpu.n_train:,} Fashion-MNIST images for {cpu.epochs} epochs".replace(",", " "), "intro")
    says(f"and attacks {SETTINGS['transfer']['cpu']['n_eval']} test images", "intro")
    says(f"CIFAR-10 for {paper.epochs} epochs ({paper_value(3, 0, 'Test Accuracy'):.1f} %) and attacks "
         f"{SETTINGS['transfer']['paper']['n_eval']}", "intro")
    t3 = raw("transfer", "cpu_table3.csv")
    says(f"(standard ResNet-18: {pc(only(t3, defect='standard').target_test_acc)} % clean accuracy)", "intro")
    decision = SETTINGS["decision"]["cpu"]
    assert f"on the same {decision['n_eval']} images" in README
    says(f"on the same {decision['n_eval']} test images for all 15 networks", "Table 4")


# ---------------------------------------------------------------------------------------------------- Table 3

def test_table3():
    summary, gaps = seeds("table3"), seeds("table3_gaps")
    wide_group = summary[summary.group.map(lambda g: "sources" in g)]
    wide = raw("transfer", "cpu_wide*_table3.csv")
    repetitions = int(wide_group.n_seeds.max())
    paper_rows = {"standard": 0, "0.5-Bottom": 1, "0.3-Bottom": 2}
    for defect, label in (("standard", "ResNet-18 standard"), ("0.5-Bottom", "ResNet-18 0.5-Bottom"), ("0.3-Bottom", "ResNet-18 0.3-Bottom")):
        cells = []
        for source, column in (("resnet18", "ResNet-18"), ("vgg19", "VGG-19")):
            row = only(wide_group, source_name=source, defect=defect)
            paper = paper_value(3, paper_rows[defect], column)
            assert round(100 * row.value_paper, 2) == round(paper, 2), (defect, source)
            if repetitions == 1:
                n = int(only(wide, source_name=source, defect=defect).n_eval)
                cells.append(f"{pc(row.success_defense_rate)} % (n={n}) / {paper:.1f} %")
            else:
                cells.append(f"{mlh(row.success_defense_rate, row.success_defense_rate_lowest, row.success_defense_rate_highest)} / {paper:.1f} %")
        clean = wide[wide.defect == defect].groupby("seed").target_test_acc.first().mean()
        says(f"| {label} | {cells[0]} | {cells[1]} | {pc(clean)} % |", f"Table 3, row {label}")
    if repetitions == 1:
        says("(`transfer/cpu_wide`, one repetition;", "Table 3's caption")
        says("In this one repetition (`cpu_wide`)", "Table 3")
    # the direction from both sources: standard < 0.5-Bottom < 0.3-Bottom
    for source in ("resnet18", "vgg19"):
        rates = [only(wide_group, source_name=source, defect=d).success_defense_rate for d in paper_rows]
        assert rates == sorted(rates), f"Table 3: 'the direction shows from both sources' is false from {source}: {rates}"
    r18 = [only(wide_group, source_name="resnet18", defect=d).success_defense_rate for d in paper_rows]
    says(f"(ResNet-18 source: {' → '.join(pc(r, 0) for r in r18)} %)", "Table 3")
    says(f"({pc(r18[0], 0)} % against the paper's {paper_value(3, 0, 'ResNet-18'):.0f} %)", "Table 3")
    main = plain_group(summary)
    standard, defective = only(main, defect="standard"), only(main, defect="0.3-Bottom")
    says(f"standard target {mlh(standard.success_defense_rate, standard.success_defense_rate_lowest, standard.success_defense_rate_highest)}"
         .replace(" % (", " % ("), "Table 3, the main job's column")
    says(f"0.3-Bottom {pc(defective.success_defense_rate)} % ({span(defective.success_defense_rate_lowest, defective.success_defense_rate_highest)})",
         "Table 3, the main job's column")
    gap = only(plain_group(gaps), source_name="resnet18", defect="0.3-Bottom")
    assert gap.n_seeds == 3 and gap.ahead_in_every_seed, "Table 3: 'ahead ... in every repetition'"
    says(f"the defective target ahead by {span(gap.gap_lowest, gap.gap_highest, 0)} points in every repetition", "Table 3")
    clean = wide.groupby("defect").target_test_acc.mean()
    says(f"the defects cost no clean accuracy ({span(clean.min(), clean.max())} %)", "Table 3")
    assert clean.drop("standard").max() >= clean["standard"] - 0.005, "Table 3: 'the defects cost no clean accuracy'"
    paper_loss = [paper_value(3, 0, "Test Accuracy") - paper_value(3, i, "Test Accuracy") for i in (1, 2)]
    says(f"where the paper loses {min(paper_loss):.1f}–{max(paper_loss):.1f} points", "Table 3")


# ---------------------------------------------------------------------------------------------------- Table 2

TABLE2_ROWS = {"Standard CNN": "Standard", "Standard CNN + SD": "+ SpatialDropout", "Standard CNN + DB": "+ DropBlock",
               "Adversarial Training": "Adversarial training", "Defective CNN": "Defective ({defect})"}


def test_table2():
    summary, gaps = plain_group(seeds("table2")), plain_group(seeds("table2_gaps"))
    first = raw("transfer", "cpu_table2.csv")
    per_seed = pd.concat([first, raw("transfer", "table2_seed*_table2.csv")]).pivot_table(
        index=["attack_label", "seed"], columns="target_name", values="adversarial_accuracy")
    paper = printed_table(2)
    for name, label in TABLE2_ROWS.items():
        cells = []
        for attack, column in (("FGSM8", "FGSM"), ("PGD8", "PGD")):
            row = only(summary, target_name=name, attack_label=attack)
            assert round(100 * row.value_paper, 2) == round(paper.loc[name, column], 2), (name, attack)
            cells.append(f"{mlh(row.adversarial_accuracy, row.adversarial_accuracy_lowest, row.adversarial_accuracy_highest)} / "
                         f"{paper.loc[name, column]:.1f} %")
        seed0 = first[first.target_name == name].iloc[0]
        label = label.format(defect=seed0.defect)
        says(f"| {label} | {cells[0]} | {cells[1]} | {pc(seed0.target_test_acc)} % |", f"Table 2, row {label}")
    assert set(summary.n_seeds) == {3}
    says("mean (lowest–highest) of three repetitions", "Table 2's caption")
    db = gaps[gaps.target_name == "Standard CNN + DB"]
    assert db.ahead_in_every_seed.all(), "Table 2: 'DropBlock is ahead of the standard network in every repetition'"
    db_pgd = only(db, attack_label="PGD8")
    says(f"DropBlock is ahead of the standard network in every repetition (by {span(db_pgd.gap_lowest, db_pgd.gap_highest)} points against PGD)",
         "Table 2")
    sd_ahead = {attack: int((per_seed.loc[attack]["Standard CNN + SD"] > per_seed.loc[attack]["Standard CNN"]).sum()) for attack in ("FGSM8", "PGD8")}
    assert set(sd_ahead.values()) == {2}, f"Table 2: 'SpatialDropout [ahead] in two of three' — seeds ahead: {sd_ahead}"
    says("and SpatialDropout in two of three", "Table 2")
    behind = [paper.loc["Standard CNN", c] - paper.loc[r, c] for r in ("Standard CNN + SD", "Standard CNN + DB") for c in ("FGSM", "PGD")]
    assert min(behind) > 0
    says(f"where the paper has both {min(behind):.0f}–{max(behind):.0f} points behind", "Table 2")
    n = first.n_images.iloc[0]
    errors = [100 * np.sqrt(2 * p * (1 - p) / n) for p in summary.adversarial_accuracy]
    says(f"on {n} images a seed the sampling error of a gap is about {np.mean(errors):.0f} points", "Table 2")
    defective = gaps[gaps.target_name == "Defective CNN"]
    assert defective.ahead_in_every_seed.all(), "Table 2: the defective network 'is ahead of the standard network in every repetition'"
    says(f"is ahead of the standard network in every repetition, by {span(defective.gap_lowest.min(), defective.gap_highest.max())} points",
         "Table 2")
    paper_gap = [paper.loc["Defective CNN", c] - paper.loc["Standard CNN", c] for c in ("FGSM", "PGD")]
    says(f"against {paper_gap[0]:.1f} (FGSM) and {paper_gap[1]:.1f} (PGD) in the paper", "Table 2")
    versus_at = per_seed["Defective CNN"] - per_seed["Adversarial Training"]
    assert (versus_at < 0).all(), "Table 2: the defective network 'stays behind adversarial training in every repetition'"
    pgd = -versus_at.loc["PGD8"]
    says(f"it stays behind adversarial training in every repetition (by {span(pgd.min(), pgd.max())} points against PGD), where the "
         f"paper's is {paper.loc['Defective CNN', 'PGD'] - paper.loc['Adversarial Training', 'PGD']:.1f} points ahead", "Table 2")


# ---------------------------------------------------------------------------------------------------- Table 6

def test_table6():
    summary, gaps = plain_group(seeds("table6")), plain_group(seeds("table6_gaps"))
    section = raw("ensemble", "cpu*_table6.csv")
    section = section[section.target_arch == "resnet18"]
    paper = printed_table(6)
    columns = (("resnet18", "ResNet-18"), ("vgg19", "VGG-19"), ("senet18", "SENet-18"))
    for index, defect in enumerate(("standard", "0.5-Bottom", "0.3-Bottom")):
        cells = []
        for source, column in columns:
            row = only(summary, source=source, defect=defect)
            assert round(100 * row.value_paper, 2) == round(paper.iloc[index][column], 2), (defect, source)
            cells.append(f"{mlh(row.success_defense_rate, row.success_defense_rate_lowest, row.success_defense_rate_highest)} / "
                         f"{paper.iloc[index][column]:.1f} %")
        says(f"| {defect} | " + " | ".join(cells) + " |", f"Table 6, row {defect}")
    assert set(summary.n_seeds) == {3}
    says(f"other test images; {section.n_eval.min()}–{section.n_eval.max()} images behind each rate)", "Table 6's caption")
    assert gaps.ahead_in_every_seed.all() and len(gaps) == 6, "Table 6: 'against every ensemble, in every repetition, both ... ahead'"
    by = {d: gaps[gaps.defect == d] for d in ("0.5-Bottom", "0.3-Bottom")}
    says(f"by {span(by['0.5-Bottom'].gap_lowest.min(), by['0.5-Bottom'].gap_highest.max(), 0)} points for 0.5-Bottom, "
         f"{span(by['0.3-Bottom'].gap_lowest.min(), by['0.3-Bottom'].gap_highest.max(), 0)} for 0.3-Bottom, "
         f"mean {span(gaps.gap.min(), gaps.gap.max(), 0)})", "Table 6")
    paper_gaps = [paper.iloc[i][c] - paper.iloc[0][c] for i in (1, 2) for _, c in columns]
    says(f"less than the paper's {min(paper_gaps):.0f}–{max(paper_gaps):.0f}", "Table 6")
    spread = (summary.success_defense_rate_highest - summary.success_defense_rate_lowest).groupby(summary.defect)
    standard, defective = spread.get_group("standard"), pd.concat([spread.get_group("0.5-Bottom"), spread.get_group("0.3-Bottom")])
    assert standard.min() > defective.max(), "Table 6: 'it is the standard target whose rate moves most between repetitions'"
    says(f"({span(standard.min(), standard.max(), 0)} points, against {span(defective.min(), defective.max(), 0)} for the defective ones)",
         "Table 6")


# ---------------------------------------------------------------------------------------------------- Table 7

def test_table7():
    summary, gaps = plain_group(seeds("table7")), plain_group(seeds("table7_gaps"))
    section = raw("transfer", "mnist*_table7.csv")
    paper = printed_table(7)
    clean = section.groupby("defect").target_test_acc.mean()
    for index, defect in enumerate(("standard", "0.5-Bottom", "0.3-Bottom")):
        cells = []
        for source, column in (("resnet18", "ResNet-18"), ("vgg19", "VGG-19")):
            row = only(summary, source_name=source, defect=defect)
            assert round(100 * row.value_paper, 2) == round(paper.iloc[index][column], 2), (defect, source)
            cells.append(f"{mlh(row.success_defense_rate, row.success_defense_rate_lowest, row.success_defense_rate_highest)} / "
                         f"{paper.iloc[index][column]:.1f} %")
        says(f"| {defect} | {cells[0]} | {cells[1]} | {pc(clean[defect])} % |", f"Table 7, row {defect}")
    says(f"other digits; {section.n_eval.min()}–{section.n_eval.max()} images behind each rate", "Table 7's caption")
    assert gaps.ahead_in_every_seed.all() and len(gaps) == 4, "Table 7: 'Direction reproduced from both sources in every repetition'"
    says(f"each defective target is ahead of the standard one by {span(gaps.gap_lowest.min(), gaps.gap_highest.max(), 0)} points", "Table 7")
    r18 = only(gaps, source_name="resnet18", defect="0.3-Bottom")
    says(f"from the ResNet-18 source the 0.3-Bottom one by {span(r18.gap_lowest, r18.gap_highest, 0)})", "Table 7")
    cost = clean["standard"] - clean.drop("standard")
    says(f"defects cost {span(cost.min(), cost.max())} points of clean accuracy on average", "Table 7")
    paper_cost = paper.iloc[0]["Test Accuracy"] - paper.iloc[[1, 2]]["Test Accuracy"]
    says(f"more than the paper's {paper_cost.max():.1f} on full MNIST", "Table 7")


# ---------------------------------------------------------------------------------------------------- Tables 8 and 9

def test_tables8_9():
    summary = plain_group(seeds("tables8_9"))
    section = raw("graybox", "cpu*_tables8_9.csv")
    says(f"3; {section.n_eval.min()}–{section.n_eval.max()} images behind each rate; `seeds/cpu_tables8_9.csv`)", "Tables 8 and 9")
    t8, t9 = printed_table(8), printed_table(9)

    def cell(table, row, column):
        found = only(summary, table=table, row_label=row, column_label=column)
        return found, f"{pc(found.success_defense_rate)} % ({span(found.success_defense_rate_lowest, found.success_defense_rate_highest)}"
    same, text = cell(8, "0.3-Bottom", "0.3-Bottom")
    says(f"with the same masks and another initialisation {text}; paper {t8.loc['0.3-Bottom', '0.3-Bottom']:.1f} %)", "Table 8")
    _, text = cell(8, "0.3-Bottom_DIF", "0.3-Bottom")
    says(f"to one with other masks (DIF) {text}; paper {t8.loc['0.3-Bottom_DIF', '0.3-Bottom']:.1f} %)", "Table 8")
    standard, text = cell(9, "resnet18", "resnet18")
    says(f"ResNet-18 {text}; paper {t9.loc['ResNet-18', 'ResNet-18']:.1f} %)", "Table 9")
    _, text = cell(9, "vgg19", "vgg19")
    says(f"VGG-19 {text})", "Table 9")
    per_seed = section.set_index(["table", "row_label", "column_label", "seed"]).sort_index().success_defense_rate
    gaps = per_seed.loc[8, "0.3-Bottom", "0.3-Bottom"] - per_seed.loc[9, "resnet18", "resnet18"]
    assert (gaps > 0).all(), "Tables 8 and 9: 'the 0.3-Bottom pair is ahead of the standard ResNet-18 pair in every repetition'"
    gaps = gaps.sort_index()  # seed 0, 1, 2
    words = ", ".join(pc(g, 0) for g in gaps.iloc[:-1]) + f" and {pc(gaps.iloc[-1], 0)}"
    paper_gap = t8.loc["0.3-Bottom", "0.3-Bottom"] - t9.loc["ResNet-18", "ResNet-18"]
    says(f"repetition, by {words} points, a smaller margin than the paper's {paper_gap:.0f}", "Tables 8 and 9")


# ---------------------------------------------------------------------------------------------------- Table 10

def test_table10():
    summary, gaps = plain_group(seeds("table10")), plain_group(seeds("table10_gaps"))
    section = raw("whitebox", "cpu*_table10.csv")
    paper = printed_table(10)
    says(f"(n ≈ {section.n_eval.mean():.0f})", "Table 10")
    assert section.n_eval.max() - section.n_eval.min() < 0.05 * section.n_eval.mean(), "Table 10: 'n ≈' hides a wide range"
    for attack, words in (("FGSM4", "FGSM ε 4: "), ("PGD8", "PGD ε 8, 10 steps: ")):
        ours, theirs = [], []
        for index, defect in enumerate(("standard", "0.5-Bottom", "0.3-Bottom")):
            row = only(summary, defect=defect, attack_label=attack)
            ours.append(f"{pc(row.success_defense_rate)} ({span(row.success_defense_rate_lowest, row.success_defense_rate_highest)})")
            theirs.append(f"{paper.iloc[index][attack]:.1f}")
        says(words + " / ".join(ours) + " % (" + " / ".join(theirs) + " %)", f"Table 10, {attack}")
    assert (section.steps[section.attack_label == "PGD8"] == 10).all()
    strong, weak = gaps[gaps.attack_label.isin(["FGSM4", "PGD4", "PGD8"])], gaps[gaps.attack_label.isin(["FGSM1", "FGSM2", "PGD2"])]
    assert strong.ahead_in_every_seed.all(), "Table 10: 'Defective networks are harder to attack' at the strongest attacks, in every repetition"
    says(f"by {span(strong.gap.min(), strong.gap.max())} points on average at the three strongest attacks (FGSM ε 4, PGD ε 4 and 8; "
         f"{span(strong.gap_lowest.min(), strong.gap_highest.max())} in single repetitions) and by "
         f"{span(weak.gap.min(), weak.gap.max(), 0)} points at the three weakest", "Table 10")
    assert (weak.gap > 0).all() and weak.gap.max() < strong.gap.min()


# ---------------------------------------------------------------------------------------------------- Tables 1 and 11

def test_tables1_11():
    shuffle, shuffle_gaps = plain_group(seeds("table1")), plain_group(seeds("table1_gaps"))
    bias, bias_gaps = plain_group(seeds("table11")), plain_group(seeds("table11_gaps"))
    section = raw("shuffle", "cpu*_accuracy.csv")
    paper = printed_table(1)
    says(f"on about {round(section.n_eval.mean(), -2):.0f} test images both networks classify correctly", "Table 1")
    rows = {k: (only(shuffle, model="resnet18", k=k), only(shuffle, model="resnet18 0.1-Bottom", k=k)) for k in (2, 4, 7)}
    s, d = rows[2]
    says(f"k = 2: {mlh(s.accuracy, s.accuracy_lowest, s.accuracy_highest)} vs {mlh(d.accuracy, d.accuracy_lowest, d.accuracy_highest)} "
         f"(paper {paper.iloc[0]['2x2']:.1f} % vs {paper.iloc[1]['2x2']:.1f} %), k = 4: {pc(rows[4][0].accuracy)} % vs {pc(rows[4][1].accuracy)} % "
         f"(paper {paper.iloc[0]['4x4']:.1f} % vs {paper.iloc[1]['4x4']:.1f} %), k = 7: {pc(rows[7][0].accuracy)} % vs {pc(rows[7][1].accuracy)} %",
         "Table 1")
    assert only(shuffle_gaps, k=2).behind_in_every_seed, "Table 1: 'shows at k = 2 in every repetition'"
    k7 = only(shuffle_gaps, k=7)
    assert k7.ahead_in_every_seed, "Table 1: 'at k = 7 the defective network is *ahead* in every repetition'"
    says(f"(by {span(k7.gap_lowest, k7.gap_highest)} points, `seeds/cpu_table1_gaps.csv`), against the paper's 8×8 "
         f"({paper.iloc[0]['8x8']:.1f} % vs {paper.iloc[1]['8x8']:.1f} %)", "Table 1")
    frequency = bias[bias.method == "frequency"]
    words = ", ".join(f"{label} {mlh(r.shape_bias, r.shape_bias_lowest, r.shape_bias_highest)}" for label, r in
                      (("standard", only(frequency, model="resnet18")),
                       *[(p, only(frequency, model=f"resnet18 {p}")) for p in ("0.5-Bottom", "0.3-Bottom", "0.1-Bottom")]))
    says(f"(low frequencies of one image, high of another): {words}", "Table 11, frequency stylisation")
    styl = raw("stylized", "cpu*_shape_bias.csv")
    per_seed = styl[styl.method == "frequency"].pivot_table(index="seed", columns="defect", values="shape_bias")
    assert (per_seed.idxmax(axis=1) == "0.1-Bottom").all(), "Table 11: 'the 0.1-Bottom network is the most shape-biased in every repetition'"
    gap = only(bias_gaps, method="frequency", model="resnet18 0.1-Bottom")
    standard = only(frequency, model="resnet18")
    says(f"in every repetition, by {span(gap.gap_lowest, gap.gap_highest)} points over the standard one, within a spread between repetitions "
         f"({pc(standard.shape_bias_highest - standard.shape_bias_lowest, 0)} points for the standard network)", "Table 11")
    assert standard.shape_bias_highest - standard.shape_bias_lowest > gap.gap_highest, "Table 11: the spread 'is larger than the effect'"
    silhouette = bias[bias.method == "silhouette"]
    says(f"every network is at {span(silhouette.shape_bias.min(), silhouette.shape_bias.max(), 0)} %", "Table 11, silhouette")
    says(f"(ImageNet → Stylized-ImageNet: {paper.iloc[0]['IN->SIN']:.1f} % standard, {paper.iloc[1]['IN->SIN']:.1f} % defective)", "Table 11")
    accuracy = styl.pivot_table(index=["method", "seed"], columns="defect", values="stylized_accuracy")
    behind = (accuracy["0.1-Bottom"] < accuracy["standard"]).groupby(level="method").sum()
    assert behind["silhouette"] == 3 and behind["frequency"] == 2, (
        f"Table 11: '*behind* the standard one in every repetition with silhouette stylisation and in two of three with frequency' — {dict(behind)}")


# ---------------------------------------------------------------------------------------------------- Figure 4

def test_figure4():
    from defective_cnn.settings import SETTINGS
    summary, gaps = plain_group(seeds("figure4")), plain_group(seeds("figure4_gaps"))
    noise = SETTINGS["noise"]["cpu"]
    says(f"on {noise['n_eval']} images every network gets right, mean of {noise['noise_seeds']} noise seeds, three repetitions", "Figure 4")
    at32 = summary[summary.sigma == 32]
    words = ", ".join(f"{label} {mlh(r.accuracy, r.accuracy_lowest, r.accuracy_highest)}" for label, r in
                      [("standard", only(at32, row_label="resnet18"))]
                      + [(p, only(at32, row_label=f"resnet18 {p}")) for p in ("0.5-Bottom", "0.3-Bottom", "0.1-Bottom")])
    says(f"at σ = 32: {words}", "Figure 4")
    defective = gaps[gaps.row_label == "resnet18 0.1-Bottom"].set_index("sigma")
    behind = sorted(defective.index[defective.behind_in_every_seed])
    assert behind == [s for s in defective.index if behind[0] <= s <= behind[-1]], f"Figure 4: behind in every repetition at σ {behind}"
    run = defective.loc[behind]
    says(f"at σ {behind[0]:.0f} to {behind[-1]:.0f} the 0.1-Bottom network is *less* accurate than the standard one in every repetition "
         f"(by {-100 * run.gap_highest.max():.2f}–{-100 * run.gap_lowest.min():.1f} points", "Figure 4")


# ---------------------------------------------------------------------------------------------------- Figure 5

def test_figure5():
    summary = plain_group(seeds("figure5"))
    section = raw("keep_prob", "cpu*_tradeoff.csv")
    paper = printed_table(13)
    clean = section.groupby("keep_prob").test_acc.mean()
    for p in (0.1, 0.3, 0.5, 0.7, 1.0):
        row = only(summary, keep_prob=p)
        label, paper_row = ("standard", "ResNet-18") if p == 1.0 else (f"{p:g}", f"{p:g}-Bottom")
        says(f"| {label} | {mlh(row.success_defense_rate, row.success_defense_rate_lowest, row.success_defense_rate_highest)} / "
             f"{paper.loc[paper_row, 'PGD16']:.1f} % | {pc(clean[p])} % / {paper.loc[paper_row, 'Acc']:.1f} % |", f"Figure 5, row {label}")
    rates = section.pivot_table(index="target_seed", columns="keep_prob", values="success_defense_rate")
    for high, low in ((1.0, 0.7), (0.7, 0.5), (0.5, 0.3)):
        assert (rates[low] > rates[high]).all(), f"Figure 5: 'robustness rises at each of those steps in every seed' fails at p {high} → {low}"
    rises = rates[0.1] > rates[0.3]
    risen, fallen = list(rates.index[rises]), list(rates.index[~rises])
    assert len(fallen) == 1, f"Figure 5: from p 0.3 to 0.1 it rises in seeds {risen}"
    says(f"it rises in the runs of target seeds {risen[0]} and {risen[1]} but not in seed {fallen[0]} "
         f"({pc(rates.loc[fallen[0], 0.3])} % at p = 0.3, {pc(rates.loc[fallen[0], 0.1])} % at p = 0.1)", "Figure 5")
    assert clean.idxmin() == 0.1, "Figure 5: 'The smallest p costs the most accuracy'"
    paper_cost = paper.loc["ResNet-18", "Acc"] - paper.loc["0.1-Bottom", "Acc"]
    says(f"({pc(clean[1.0] - clean[0.1])} points at p = 0.1 on average; the paper loses {paper_cost:.1f})", "Figure 5")
    spread = (summary.success_defense_rate_highest - summary.success_defense_rate_lowest).set_axis(summary.keep_prob)
    says(f"at most {pc(spread.drop(1.0).max())} points for defective networks but {pc(spread[1.0])} for the standard one", "Figure 5")
    best, worst = only(summary, keep_prob=1.0).success_defense_rate_highest, only(summary, keep_prob=0.7).success_defense_rate_lowest
    says(f"best seed ({pc(best)} %) stays {pc(worst - best)} points below the worst 0.7-Bottom one ({pc(worst)} %)", "Figure 5")


# ---------------------------------------------------------------------------------------------------- Tables 5 and 12-16

ABLATION_ROWS = {"ResNet-18": "standard", "0.5-Bottom": "0.5-Bottom", "0.5-Top": "0.5-Top",
                 "0.5-Bottom_DC": "0.5-Bottom, defective channels (DC)", "0.5-Bottom_SM": "0.5-Bottom, shared mask (SM)", "0.1-Bottom": "0.1-Bottom"}
ABLATION_COLUMNS = ("FGSM16", "PGD16", "PGD32", "CW20", "CW10")


def signed(value, digits=1):
    return minus(f"{value:+.{digits}f}")


def test_tables12_16():
    every = seeds("tables12-16")
    summary = every[every.group.map(lambda g: "rows" not in g)]
    gaps = seeds("tables12-16_gaps")
    gaps = gaps[gaps.group.map(lambda g: "rows" not in g)]
    section = raw("ablation", "cpu_table.csv")
    section = pd.concat([section, raw("ablation", "cpu_seed*_table.csv")])
    paper = printed_table(13)
    clean = section.groupby("row_label").test_acc.mean()
    for name, label in ABLATION_ROWS.items():
        cells = []
        for column in ABLATION_COLUMNS:
            row = only(summary, row_label=name, column_label=column)
            cell = f"{pc(row.success_defense_rate)} ({span(row.success_defense_rate_lowest, row.success_defense_rate_highest)})"
            if column in paper.columns:
                assert round(100 * row.value_paper, 2) == round(paper.loc[name, column], 2), (name, column)
                cell += f" / {pp(paper.loc[name, column])}"
            cells.append(cell)
        says(f"| {label} | " + " | ".join(cells) + f" | {pc(clean[name])} |", f"Tables 12-16, row {label}")
    n = section.pivot_table(index="column_label", values="n_eval", aggfunc=["min", "max"])
    transfer = n.loc[["FGSM16", "PGD16", "PGD32"]]
    says(f"on {section.n_images[section.column_label == 'PGD16'].iloc[0]} images ({transfer['min'].min().iloc[0]}–{transfer['max'].max().iloc[0]} "
         f"images behind each rate), and CW-L2 on the first {section.n_images[section.column_label == 'CW20'].iloc[0]} "
         f"(κ 20, Table 13's: {n.loc['CW20'].iloc[0]}–{n.loc['CW20'].iloc[1]} images; κ 10: {n.loc['CW10'].iloc[0]}–{n.loc['CW10'].iloc[1]})",
         "Tables 12-16's caption")

    def ranged(row, columns, digits=0):
        found = gaps[(gaps.row_label == row) & gaps.column_label.isin(columns)]
        return span(found.gap_lowest.min(), found.gap_highest.max(), digits)
    for row in ("0.5-Bottom", "0.1-Bottom"):
        assert gaps[gaps.row_label == row].ahead_in_every_seed.all(), f"Tables 12-16: '{row} beats the standard network in every column'"
    says(f"0.5-Bottom by {ranged('0.5-Bottom', ABLATION_COLUMNS[:3])} points against FGSM and PGD, {ranged('0.5-Bottom', ['CW20'])} against "
         f"CW20 and {ranged('0.5-Bottom', ['CW10'])} against CW10; 0.1-Bottom by {ranged('0.1-Bottom', ABLATION_COLUMNS[:3])}, "
         f"{ranged('0.1-Bottom', ['CW20'])} and {ranged('0.1-Bottom', ['CW10'])}.", "Tables 12-16")
    top = gaps[gaps.row_label == "0.5-Top"].set_index("column_label")
    bottom = gaps[gaps.row_label == "0.5-Bottom"].set_index("column_label")
    assert top.loc[list(ABLATION_COLUMNS[:3])].ahead_in_every_seed.all() and (top.gap < bottom.gap).all()
    says(f"0.5-Top is ahead of the standard network by {ranged('0.5-Top', ABLATION_COLUMNS[:3])} points against FGSM and PGD", "Tables 12-16")
    per_seed = section.pivot_table(index=["column_label", "seed"], columns="row_label", values="success_defense_rate")
    top_behind = (per_seed["0.5-Top"] < per_seed["ResNet-18"]).groupby(level="column_label").sum()
    assert top_behind["CW20"] == 1 and top_behind.drop("CW20").eq(0).all(), f"Tables 12-16: 0.5-Top 'behind it once against CW20': {dict(top_behind)}"
    dc = gaps[gaps.row_label == "0.5-Bottom_DC"]
    says(f"(DC: {signed(100 * dc.gap_lowest.min(), 0)} to {signed(100 * dc.gap_highest.max(), 0)} points", "Tables 12-16")
    dc_behind = (per_seed["0.5-Bottom_DC"] < per_seed["ResNet-18"]).groupby(level="column_label").sum()
    assert (dc_behind > 0).all(), f"Tables 12-16: DC 'behind the standard network in some repetition in every column': {dict(dc_behind)}"
    says(f"resists {paper.loc['ResNet-18', 'CW20']:.0f} % of CW20 images, 0.1-Bottom {paper.loc['0.1-Bottom', 'CW20']:.0f} %)", "Tables 12-16")
    assert paper.loc["0.5-Bottom_SM", "PGD16"] > paper.loc["0.5-Bottom", "PGD16"], "Tables 12-16: SM 'the paper: better'"
    says(f"(the paper's SM is {paper.loc['0.5-Bottom_SM', 'PGD16'] - paper.loc['0.5-Bottom', 'PGD16']:.0f} points better in Table 13)", "ablation conclusions")
    says(f"gains on average {pc(top.gap['FGSM16'])}, {pc(top.gap['PGD16'])} and {pc(top.gap['PGD32'])} points against FGSM16, PGD16 and PGD32 "
         f"(ahead in every repetition; {pc(top.gap['CW20'])} against CW20, where it is behind once)", "ablation conclusions")
    assert paper.loc["0.5-Top", ["FGSM16", "PGD16", "PGD32"]].le(paper.loc["ResNet-18", ["FGSM16", "PGD16", "PGD32"]] + 0.5).all(), \
        "ablation conclusions: 'where the paper's gains nothing' (half a point at most)"
    says(f"with one seed at {signed(100 * top.gap_lowest['PGD16'])} against PGD16", "ablation conclusions")


def test_width_and_ensembles_of_two():
    every, gaps = seeds("tables12-16"), seeds("tables12-16_gaps")
    summary = every[every.group.map(lambda g: "rows" in g)]
    gaps = gaps[gaps.group.map(lambda g: "rows" in g)]
    paper = printed_table(13)
    columns = ("FGSM16", "PGD16", "PGD32")
    for name, label in (("0.5-Bottom_x2", "0.5-Bottom ×2 "), ("ResNet-18_EN", "an ensemble of two standard networks "),
                        ("0.5-Bottom_EN", "an ensemble of two 0.5-Bottom networks ")):
        ours = [only(summary, row_label=name, column_label=c) for c in columns]
        says(label + " / ".join(f"{pc(r.success_defense_rate)} ({span(r.success_defense_rate_lowest, r.success_defense_rate_highest)})" for r in ours)
             + " % (" + " / ".join(pp(paper.loc[name, c]) for c in columns) + " %)", f"ensembles of two, {name}")
    ahead = gaps[gaps.row_label.isin(["0.5-Bottom_x2", "0.5-Bottom_EN"])]
    assert ahead.ahead_in_every_seed.all(), "ensembles of two: 'the ×2 and the defective ensemble are ahead ... inside every repetition'"
    standard = gaps[gaps.row_label == "ResNet-18_EN"]
    assert not standard.ahead_in_every_seed.any()
    says(f"(by {span(ahead.gap_lowest.min(), ahead.gap_highest.max(), 0)} points), the standard ensemble is not "
         f"({signed(100 * standard.gap_lowest.min(), 0)} to {signed(100 * standard.gap_highest.max(), 0)})", "ensembles of two")


def test_cw_budget():
    budget, reach = raw("ablation", "cpu*_cw_budget.csv"), raw("ablation", "cpu*_cw_reach.csv")
    says(f"on the {budget.n_images.min()}–{budget.n_images.max()} of the first 32 test images its source gets right", "CW budget")
    for kappa, label in ((20.0, "20 (Table 13's)"), (10.0, "10")):
        mine = budget[budget.confidence == kappa]
        seed0 = mine[mine.seed == 0].set_index("steps").success_rate
        at = lambda steps: ", ".join(pc(v, 0) for v in mine[mine.steps == steps].sort_values("seed").success_rate)
        reached = ", ".join(pc(v, 0) for v in reach[reach.confidence == kappa].sort_values("seed").reachable_share)
        says(f"| {label} | " + " / ".join(pc(seed0[s], 0) for s in (25, 50, 100, 200)) + f" % | {at(100)} % | {at(200)} % | {reached} % |",
             f"CW budget, κ {kappa:g}")
    third = budget[(budget.seed == 2) & (budget.confidence == 20) & (budget.steps == 200)].iloc[0]
    third_reach = reach[(reach.seed == 2) & (reach.confidence == 20)].iloc[0]
    says(f"passes it, {round(third.success_rate * third.n_images)} of {third.n_images} images against "
         f"{round(third_reach.reachable_share * third_reach.n_images)})", "CW budget")
    margins = reach.groupby("seed").median_reachable_margin.first()
    says(f"the median margin reachable anywhere in the box is {margins.min():.1f}–{margins.max():.1f}", "CW budget")
    at100 = budget[(budget.confidence == 10) & (budget.steps == 100)].success_rate
    says(f"with 100 steps CW succeeds on {span(at100.min(), at100.max(), 0)} % of them", "CW budget")


# ---------------------------------------------------------------------------------------------------- Table 4 (stale run, its CSVs as committed)

def test_table4():
    boundary = pd.read_csv(RUNS / "decision" / "cpu_table4.csv").set_index("row_label")
    ratios = pd.read_csv(RUNS / "decision" / "cpu_ratios.csv")
    hsj = ratios[ratios.attack != "boundary"].set_index("row_label")
    paper = printed_table(4)["S(M)"]
    for name, label in (("Standard CNN + SD", "+ SpatialDropout"), ("Standard CNN + DB", "+ DropBlock"),
                        ("Standard CNN + LS", "+ label smoothing"), ("Defective CNN", "0.1-Bottom")):
        b, h = boundary.loc[name], hsj.loc[name]
        says(f"| {label} | {b.ratio_to_reference:.2f} ({b.ratio_low:.2f}–{b.ratio_high:.2f}) | {b.ratio_seed_min:.2f}–{b.ratio_seed_max:.2f} | "
             f"{pp(paper[name] / paper['Standard CNN'], 2 if name != 'Defective CNN' else 1)} | "
             f"{h.ratio_to_reference:.2f} ({h.ratio_low:.2f}–{h.ratio_high:.2f}) |", f"Table 4, row {label}")
    assert (boundary.steps == boundary.converged_at).all() and boundary.n_seeds.eq(3).all() and boundary.n_images.eq(100).all()
    standard, defective = boundary.loc["Standard CNN"], boundary.loc["Defective CNN"]
    says(f"Clean accuracy: standard {pc(standard.test_acc)} % ({pc(standard.test_acc_min)}–{pc(standard.test_acc_max)} over the seeds), "
         f"0.1-Bottom {pc(defective.test_acc)} % ({pc(defective.test_acc_min)}–{pc(defective.test_acc_max)})", "Table 4")
    assert boundary.ratio_to_reference.idxmax() == "Defective CNN" and hsj.ratio_to_reference.idxmax() == "Defective CNN", \
        "Table 4: 'the defective network's S(M) is the largest of the five rows under both attacks'"
    says(f"but only by {pc(defective.ratio_to_reference - 1, 0)} % (Boundary) and {pc(hsj.loc['Defective CNN'].ratio_to_reference - 1, 0)} % "
         f"(HopSkipJump) where the paper has {pp(paper['Defective CNN'] / paper['Standard CNN'], 1)} times", "Table 4")
    says(f"(same-seed ratios {defective.ratio_seed_min:.2f}–{defective.ratio_seed_max:.2f}", "Table 4")
    order = boundary.drop(["Standard CNN", "Defective CNN"]).ratio_to_reference.sort_values()
    short = {"Standard CNN + SD": "SD", "Standard CNN + DB": "DB", "Standard CNN + LS": "LS"}
    says("(ours: " + " < ".join(f"{short[n]} {v:.2f}" for n, v in order.items()) + "; the paper: "
         + " < ".join(f"{short[n]} {pp(paper[n] / paper['Standard CNN'], 2)}" for n in (paper.drop(["Standard CNN", "Defective CNN"]) / paper["Standard CNN"]).sort_values().index)
         + ")", "Table 4")


# ---------------------------------------------------------------------------------------------------- Figures 3, 6 and 14

def test_examples_and_training_curves():
    examples = raw("adversarial_examples", "cpu_examples.csv")
    fooled = examples.groupby(["eps", "model"]).fooled.agg(["sum", "count"])
    at16, at32 = fooled.loc[16], fooled.loc[32]
    says(f"(ε 16: {at16.loc['0.1-Bottom', 'sum']} of {at16.loc['0.1-Bottom', 'count']} for 0.1-Bottom, {at16.loc['ResNet-18', 'sum']} of "
         f"{at16.loc['ResNet-18', 'count']} for the standard one; ε 32: all {at32['count'].iloc[0]})", "Figures 3 and 6")
    assert (at32["sum"] == at32["count"]).all(), "Figures 3 and 6: 'ε 32: all'"
    curves = raw("training_curves", "cpu_curves.csv")
    final = curves[(curves.split == "test") & (curves.epoch == curves.epochs)].drop_duplicates("name")
    bottom = final[final.defect.str.contains("Bottom", na=False)]
    others = final.drop(bottom.index)
    says(f"final test accuracy of the {len(bottom)} networks with bottom masks is {span(bottom.accuracy.min(), bottom.accuracy.max())} %, of the "
         f"{len(others)} others {span(others.accuracy.min(), others.accuracy.max())} %", "Figure 14")
    says(f"the {len(final)} `cpu` networks this zoo held", "Figure 14")
