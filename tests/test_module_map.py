"Imports only downward: each module of the package imports only modules whose notebook comes earlier in nbs/."
import ast
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "defective_cnn"


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
    "Package modules that `module` imports, at the top or inside functions."
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            name = node.module.removeprefix("defective_cnn.") if node.level == 0 else node.module
            if node.level or node.module.startswith("defective_cnn."):
                found.add(name.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("defective_cnn.")}
    return found


def test_every_module_has_a_notebook_and_imports_only_downward():
    order = notebook_order()
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))
    assert sorted(order) == modules, f"modules without a notebook or notebooks without a module: {set(order) ^ set(modules)}"
    upward = {m: sorted(i for i in package_imports(m) if order[i] >= order[m]) for m in modules}
    upward = {m: i for m, i in upward.items() if i}
    assert not upward, f"modules importing from a later (or their own) notebook: {upward}"


def test_the_check_can_fail(tmp_path):
    assert package_imports("cli") >= {"runner", "zoo"}  # it does see imports
    assert package_imports("defective") == set()
