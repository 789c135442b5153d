"""The package's top level: `from defective_cnn import defectify` gives the function, and importing a module that needs no
torch (`defective_cnn.paper`) does not load torch (defective_cnn/__init__.py imports `defectify` when first asked for).

Each check runs in a fresh interpreter: this test process has loaded torch already."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def python(code: str) -> str:
    "What `code` prints, run by this test's Python in a fresh process from the repository root."
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_paper_does_not_load_torch():
    assert python("import sys, defective_cnn.paper; print('torch' in sys.modules)") == "False"


def test_defectify_at_the_top_level_is_the_function_and_loads_torch_then():
    printed = python("import sys, defective_cnn\n"
                     "print('torch' in sys.modules)\n"
                     "from defective_cnn import defectify\n"
                     "print('torch' in sys.modules, defectify is sys.modules['defective_cnn.defectify'].defectify, callable(defectify))")
    assert printed.splitlines() == ["False", "True True True"]


def test_the_submodule_imported_first_does_not_hide_the_function():
    printed = python("import sys\n"
                     "from defective_cnn.defectify import mask_plan\n"
                     "import defective_cnn\n"
                     "from defective_cnn import defectify\n"
                     "print(defectify is sys.modules['defective_cnn.defectify'].defectify, defective_cnn.defectify is defectify)")
    assert printed == "True True"


def test_other_names_are_not_there():
    printed = python("import defective_cnn\n"
                     "try:\n    defective_cnn.no_such_name\nexcept AttributeError as e:\n    print(e)")
    assert printed == "module 'defective_cnn' has no attribute 'no_such_name'"
