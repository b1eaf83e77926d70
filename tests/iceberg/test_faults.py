"""`tables apply` against a loopback Iceberg REST catalog that fails in every way the fault matrix lists.

Each case: the outcome (success, or the typed error with its message), bounded in time, and a
rerun without the fault that converges with every row and the table's identity kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.iceberg.fault_matrix import CASES, Case, run_case
from tests.loopback import SHORT

# Far above what any case costs with 0.5 s timeouts, far below "hangs forever".
BOUND = 10.0


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_fault_ends_in_its_outcome_in_bounded_time_and_a_rerun_converges_with_nothing_lost(
        tmp_path: Path, case: Case):
    outcome = run_case(tmp_path, case, SHORT)
    if case.error is None:
        assert outcome.error is None, f"{case.name}: {outcome.error}"
    else:
        assert isinstance(outcome.error, case.error), f"{case.name}: {outcome.error!r}"
        assert re.search(case.message, str(outcome.error)), str(outcome.error)
    assert outcome.seconds < BOUND
    assert outcome.converged
    assert outcome.rows_kept
