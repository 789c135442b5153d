"Imports only downward: each module of the package imports only modules whose notebook comes earlier in nbs/; the module map (docs/modules.md) says what each imports."
import json
import re
from pathlib import Path

from defective_cnn.freshness import package_imports as imports_in

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "defective_cnn"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))


def notebook_order() -> dict:
    "Module name -> number of the library notebook that exports it (its `#| default_exp`)."
    order = {}
    for notebook in sorted((REPO / "nbs").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            match = re.search(r"^#\| default_exp (\w+)", "".join(cell["source"]), re.M)
            if match:
                order[match.group(1)] = int(notebook.name[:2])
                break
    return order


def package_imports(module: str) -> set:
    "Package modules that `module` imports, at the top or inside functions, in any form (`from .x`, `from defective_cnn import x`)."
    return imports_in((PACKAGE / f"{module}.py").read_text(), MODULES)


def test_every_module_has_a_notebook_and_imports_only_downward():
    order = notebook_order()
    assert sorted(order) == MODULES, f"modules without a notebook or notebooks without a module: {set(order) ^ set(MODULES)}"
    upward = {m: sorted(i for i in package_imports(m) if order[i] >= order[m]) for m in MODULES}
    upward = {m: i for m, i in upward.items() if i}
    assert not upward, f"modules importing from a later (or their own) notebook: {upward}"


def test_the_check_can_fail(tmp_path):
    assert package_imports("cli") >= {"execution", "zoo"}  # it does see imports
    assert "freshness" in package_imports("repeats")  # also `from defective_cnn import freshness as …`
    assert package_imports("defective") == set()


MODULE_MAP = REPO / "docs" / "modules.md"


def documented_module_map() -> dict:
    "Module -> (notebook number, the set its 'imports from the package' cell names) from the module map in docs/modules.md."
    rows = re.findall(r"^\| `(\w+)` \((\d\d)\) \|.*\| ([^|]*) \|$", MODULE_MAP.read_text(encoding="utf-8"), re.M)
    return {m: (int(n), {i.strip() for i in imports.split(",") if i.strip() not in ("", "—")}) for m, n, imports in rows}


def test_module_map_is_the_package():
    described, order = documented_module_map(), notebook_order()
    assert sorted(described) == MODULES, f"the module map in {MODULE_MAP.relative_to(REPO)} and the package differ: {set(described) ^ set(MODULES)}"
    wrong = {m: (n, sorted(i)) for m, (n, i) in described.items() if (n, i) != (order[m], package_imports(m))}
    assert not wrong, f"module map rows that do not match the package (number, imports): {wrong}; actual: " + \
        str({m: (order[m], sorted(package_imports(m))) for m in wrong})
