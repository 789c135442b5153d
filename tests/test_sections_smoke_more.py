"""The other half of the section notebooks at the smoke profile (see test_sections_smoke.py), run beside the first half."""
import pytest

from test_sections_smoke import HALVES, check_smoke_run

HALF = HALVES[1]


@pytest.mark.parametrize("section", HALF)
def test_section_runs_at_smoke_and_writes_results(smoke_runs, section):
    check_smoke_run(smoke_runs, section)
