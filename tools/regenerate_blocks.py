"""Rewrite the generated blocks of README.md (claims table and its sentences; the adaptive attacker's sentence; the Trifeature sentence; the scale table) and docs/results.md (the later attacks; the adaptive attacker; the Trifeature sentence; the scale table),
and the figure of every committed scale run (docs/scale_ladder.png), from the committed CSVs, as tests/test_claims.py expects them.
Run from the checkout: .venv/bin/python tools/regenerate_blocks.py"""
import re
from pathlib import Path

from defective_cnn.claims import (LADDER_FIGURE, adaptive_sentence, autoattack_sentence, beyond_sentence, claims_markdown, claims_table,
                                  ladder_figure, later_attacks_sentence, later_attacks_table, scale_markdown, trifeature_sentence)

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "papermill_runs"


def replace_block(path: Path, name: str, text: str) -> bool:
    "Put `text` between <!-- name:begin --> and <!-- name:end --> in `path`; whether the file changed."
    old = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- {name}:begin -->\n)(.*?)(<!-- {name}:end -->)", re.S)
    if len(pattern.findall(old)) != 1:
        raise ValueError(f"{path} needs exactly one <!-- {name}:begin --> ... <!-- {name}:end --> block")
    new = pattern.sub(lambda m: m.group(1) + text.strip() + "\n" + m.group(3), old)
    path.write_text(new, encoding="utf-8")
    return new != old


if __name__ == "__main__":
    table = claims_table(RUNS)
    readme = replace_block(REPO / "README.md", "claims", claims_markdown(table))
    trifeature = trifeature_sentence(table, "cpu")
    readme |= replace_block(REPO / "README.md", "trifeature", trifeature)
    beyond = "\n\n".join([beyond_sentence(table, "cpu"), autoattack_sentence(RUNS, "cpu"), later_attacks_sentence(RUNS, "cpu"),
                          later_attacks_table(RUNS, "cpu")])
    results = replace_block(REPO / "docs" / "results.md", "beyond", beyond) | replace_block(REPO / "docs" / "results.md", "trifeature", trifeature)
    scale_block = scale_markdown(RUNS)
    scale = replace_block(REPO / "README.md", "scale", scale_block) | replace_block(REPO / "docs" / "results.md", "scale", scale_block)
    adaptive = adaptive_sentence(table, "cpu")
    adaptive_block = replace_block(REPO / "README.md", "adaptive", adaptive) | replace_block(REPO / "docs" / "results.md", "adaptive", adaptive)
    ladder_figure(REPO / LADDER_FIGURE, RUNS, table=table)
    print(f"README.md claims block {'rewritten' if readme else 'unchanged'}, scale block {'rewritten' if scale else 'unchanged'}; "
          f"docs/results.md beyond and trifeature blocks {'rewritten' if results else 'unchanged'}; adaptive blocks {'rewritten' if adaptive_block else 'unchanged'}; "
          f"{LADDER_FIGURE} drawn")
