"""One zoo of smoke networks for the whole test run: each smoke network is trained once, by whichever test (or notebook,
under `make test`) first needs it, and never into the user's zoo."""
import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def smoke_zoo(tmp_path_factory):
    "$DEFECTIVE_CNN_SMOKE_ZOO (`make test` sets it, shared with the notebooks), else a folder of this pytest run."
    folder = os.environ.get("DEFECTIVE_CNN_SMOKE_ZOO") or str(tmp_path_factory.mktemp("smoke_zoo"))
    os.environ["DEFECTIVE_CNN_SMOKE_ZOO"] = folder  # zoo.smoke_zoo_dir(); inherited by subprocesses and papermill kernels
    return folder
