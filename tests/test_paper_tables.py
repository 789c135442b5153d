"""Cross-check of defective_cnn.paper's transcription against the paper's text.

Every table is re-read from the text file (the rows printed just above each "Table N:" caption) with a
parser written independently of the module's, and compared with `printed_table(n)` cell by cell:
row labels, numbers and header count. The captions of Tables 12-16 are checked for the source
model, its test accuracy and the CW confidence the module assigns. Skipped when the paper's text is
not beside the repository, except in CI (CI has it at ../shared), where its absence fails.
"""
import math
import os
import re
from pathlib import Path

import pytest

from defective_cnn.paper import ARCH_NAMES, TABLE_SPECS, paper_table, printed_table

PAPER_NAME = Path("paper") / "defective-convolutional-networks.txt"
CANDIDATES = [Path(__file__).resolve().parents[2] / "shared" / PAPER_NAME, Path("/work/shared") / PAPER_NAME]


@pytest.fixture(scope="module")
def lines():
    path = next((p for p in CANDIDATES if p.is_file()), None)
    if path is None and os.environ.get("CI"):
        pytest.fail(f"CI must have the paper's text beside the repository; not found in {', '.join(map(str, CANDIDATES))}")
    if path is None:
        pytest.skip(f"the paper's text is not here (looked in {', '.join(map(str, CANDIDATES))})")
    return path.read_text(encoding="utf-8").splitlines()


def caption_index(lines, number):
    found = [i for i, line in enumerate(lines) if line.startswith(f"Table {number}:")]
    assert len(found) == 1, f"Table {number}'s caption occurs {len(found)} times"
    return found[0]


def text_table(lines, number):
    "(header line, [(label, [value or None])]) of one table, read from the text."
    end = caption_index(lines, number)
    start = end - 1
    while not lines[start].startswith(("Architecture ", "Model ")):
        start -= 1
    rows = []
    for line in lines[start + 1:end]:
        tokens = line.split(" ")
        values = []
        while tokens and re.fullmatch(r"\d+\.\d+%|\d\.\de-\d\d|-", tokens[-1]):
            token = tokens.pop()
            values.insert(0, None if token == "-" else float(token.rstrip("%")))
        rows.append((label_of(" ".join(tokens)), values))
    return lines[start], rows


def label_of(text):
    "The row label without citations; LaTeX subscripts (…\\text{0.5-Bottom}_{\\text{DC}}) as _DC, _x2, _x2,EN."
    match = re.search(r"\\text\{\s*([^}]*)\}_\{(.*)\}$", text)
    if match:
        subscript = re.sub(r"\\text\{([^}]*)\}", r"\1", match.group(2)).replace("\\times ", "x")
        return f"{match.group(1)}_{subscript}"
    return re.sub(r"\s*\[\d+\]", "", text).strip()


@pytest.mark.parametrize("number", sorted(TABLE_SPECS))
def test_table_matches_text(lines, number):
    header, rows = text_table(lines, number)
    printed = printed_table(number)
    assert [label for label, _ in rows] == list(printed.index)
    assert {len(values) for _, values in rows} == {printed.shape[1]}
    for (label, values), (_, ours) in zip(rows, printed.iterrows()):
        for column, theirs, mine in zip(printed.columns, values, ours):
            if theirs is None:
                assert math.isnan(mine), (number, label, column)
            else:
                assert mine == theirs, (number, label, column, mine, theirs)


@pytest.mark.parametrize("number", [5, 10, 12, 13, 14, 15, 16])
def test_attack_headers_match_text(lines, number):
    "Subscripted headers (FGSM_{16}, PGD_{2,16}, CW_{40}) name the module's columns, in order."
    header, _ = text_table(lines, number)
    attacks = [f"{name}{sub}" for name, sub in re.findall(r"\\text\{(FGSM|PGD|CW)\}_\{([\d,]+)\}", header)]
    columns = list(printed_table(number).columns)
    assert attacks == columns[:-1]
    assert header.split(" ")[-1] in ("Acc", "Accuracy")


@pytest.mark.parametrize("number", [3, 6, 7, 9])
def test_source_headers_match_text(lines, number):
    header, _ = text_table(lines, number)
    names = [n for n in header.split(" ")[1:] if n in ARCH_NAMES]
    assert names == [c for c in printed_table(number).columns if c in ARCH_NAMES]
    table = paper_table(number)
    sources = table[table.metric == "success_defense_rate"].drop_duplicates("column_label")
    assert list(sources.source) == [ARCH_NAMES[n] for n in names]


@pytest.mark.parametrize("number", [12, 13, 14, 15, 16])
def test_ablation_captions(lines, number):
    "Source model and its test accuracy from the caption; CW confidence from the header (none for VGG-19)."
    caption = lines[caption_index(lines, number)]
    source = re.search(r"generated against (ResNet-18|ResNet-50|DenseNet-121|SENet-18|VGG-19)", caption).group(1)
    accuracy = float(re.search(r"achieves (\d+\.\d+)% accuracy", caption).group(1))
    table = paper_table(number)
    assert set(table.source.dropna()) == {ARCH_NAMES[source]}
    assert table.loc[table.metric == "source_test_acc", "value"].tolist() == [pytest.approx(accuracy / 100, abs=1e-12)]
    header, _ = text_table(lines, number)
    kappas = [float(k) for k in re.findall(r"\\text\{CW\}_\{(\d+)\}", header)]
    assert sorted(table.kappa.dropna().unique()) == kappas


def test_appendix_a7_cw_confidence(lines):
    "A.7 names kappa = 40 for DenseNet-121, ResNet-50, SENet-18 and 20 for ResNet-18."
    text = next(line for line in lines if "we choose κ=40" in line)
    choice = re.search(r"κ=40.*?for ([\w\-, ]+?) and κ=20.*?for (ResNet-18|ResNet-50|DenseNet-121|SENet-18|VGG-19)", text)
    assert choice.group(1).split(", ") == ["DenseNet-121", "ResNet-50", "SENet-18"] and choice.group(2) == "ResNet-18"
    kappa = {n: paper_table(n).kappa.dropna().unique().tolist() for n in range(12, 17)}
    assert kappa == {12: [40.0], 13: [20.0], 14: [40.0], 15: [40.0], 16: []}


def test_row_counts_from_text(lines):
    "Cells in the tidy frame = printed rows × columns (Table 5 without its repeated row; 12-16 plus the caption)."
    for number in TABLE_SPECS:
        _, rows = text_table(lines, number)
        distinct = {(label, tuple(values)) for label, values in rows}
        expected = len(distinct) * len(rows[0][1]) + (1 if number >= 12 else 0)
        assert len(paper_table(number)) == expected, number
    assert len(text_table(lines, 3)[1]) == 15 and len(paper_table(3)) == 15 * 5 + 15
