"""No claims row may say "from a stale run" without a sentence in the README that names the run and says why it stays.

The runs kept stale are those tests/test_freshness.py lists in KNOWN_STALE; a README sentence outside the generated
claims block names each one a claims row rests on, and its price is the one the committed benchmark measured
(tests/benchmarks/price_decision.py --json tests/benchmarks/price_decision_cpu.json)."""
import json
import re
from pathlib import Path

from test_freshness import KNOWN_STALE

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
BLOCK = re.compile(r"<!-- claims:begin -->.*?<!-- claims:end -->", re.S)


def outside_block() -> str:
    return BLOCK.sub("", README)


def test_every_stale_row_has_its_reason_beside_the_table():
    block = BLOCK.search(README).group(0)
    stale_rows = [line for line in block.splitlines() if "from a stale run" in line]
    if not stale_rows:
        return
    named = [run for run in KNOWN_STALE if f"`{run}`" in outside_block()]
    assert named, (f"{len(stale_rows)} claims row(s) say 'from a stale run' and no README sentence outside the block names "
                   f"a kept-stale run ({', '.join(KNOWN_STALE)}) with its reason")
    for line in stale_rows:
        where = line.split("|")[1].strip()
        assert re.search(rf"{re.escape(where)}'s rows come from `({'|'.join(map(re.escape, named))})`", outside_block()), \
            f"the stale row of {where} has no sentence saying which run it comes from and why"


def test_the_decision_price_is_the_measured_one():
    measured = json.loads((REPO / "tests" / "benchmarks" / "price_decision_cpu.json").read_text())
    sentence = next(s for s in outside_block().split("\n\n") if "`decision/cpu`" in s)
    assert f"about {measured['hours_per_seed']:.0f} hours a seed" in sentence, sentence
    assert f"load {measured['load_average'][0]:.1f}" in sentence, sentence
    from defective_cnn.settings import SETTINGS

    row = SETTINGS["decision"]["cpu"]
    steps = f"{row['steps']:,}".replace(",", " ")
    assert f"{steps} steps on {row['n_eval']} images, {measured['networks']} networks" in sentence, sentence
