"""The other half of the section notebooks at the smoke profile (see test_sections_smoke.py), run beside the first half."""
import pytest

from test_sections_smoke import HALVES, check_smoke_run, run_half

HALF = HALVES[1]


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory, smoke_zoo):
    return run_half(HALF, tmp_path_factory, smoke_zoo)


@pytest.mark.parametrize("section", HALF)
def test_section_runs_at_smoke_and_writes_results(smoke_runs, section):
    check_smoke_run(smoke_runs, section)
