"""Fixtures that more than one test file uses.

One zoo of smoke networks for the whole test run: each smoke network is trained once, by whichever test (or notebook,
under `make test`) first needs it, and never into the user's zoo."""
import os

import pytest
import torch

from chromium import start_chromium


@pytest.fixture(scope="session", autouse=True)
def smoke_zoo(tmp_path_factory):
    "$DEFECTIVE_CNN_SMOKE_ZOO (`make test` sets it, shared with the notebooks), else a folder of this pytest run."
    folder = os.environ.get("DEFECTIVE_CNN_SMOKE_ZOO") or str(tmp_path_factory.mktemp("smoke_zoo"))
    os.environ["DEFECTIVE_CNN_SMOKE_ZOO"] = folder  # zoo.smoke_zoo_dir(); inherited by subprocesses and papermill kernels
    return folder


@pytest.fixture(scope="module")
def one_thread():
    "One torch thread for a module's tests (`pytestmark = pytest.mark.usefixtures('one_thread')`): small models run fastest so, and far faster than on two when the machine is busy."
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def browser():
    "Headless Chromium for a module's tests (tests/chromium.py), quit after them."
    driver = start_chromium(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def smoke_runs(request, tmp_path_factory, smoke_zoo):
    "The smoke runs of the sections that the requesting module names in its HALF (test_sections_smoke.py), once per module."
    from test_sections_smoke import run_half  # a test module: imported when a smoke test asks, not by every worker

    return run_half(request.module.HALF, tmp_path_factory, smoke_zoo)
