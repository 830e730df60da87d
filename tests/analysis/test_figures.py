"""The figures check in isolation: what counts as a figure, and when it matches a computed value."""

from __future__ import annotations

import pytest

from mcp_workbench.analysis.figures import ComputedFigures, unmatched

CONTEXT = "Revenue 1183.4; share 0.412; users 3084112; mean 120.4999; change -12; rate 7.25%; 2024-03-01"


@pytest.mark.parametrize(
    ("draft", "flagged"),
    [
        ("Revenue was 1,183.4 (about 1,200).", []),  # written to the tenth, then to the hundred
        ("41% of orders; 3.1 million users; 120.5 on average.", []),
        ("It fell by 12 points, to 7.25%.", []),  # signs are ignored
        ("Revenue was 1,190.", ["1,190"]),  # to the unit: 1,183.4 does not round to it
        ("41.5% of orders.", ["41.5%"]),
        ("3.2 million users.", ["3.2 million"]),
        ("A rise of 13.", ["13"]),
        ("In Q3 of 2025, on 2024-03-01 at 10:30, v2.1.0 shipped 3 fixes; the 2nd release.", []),  # not figures
    ],
)
def test_a_figure_is_flagged_only_when_no_computed_value_rounds_to_it(draft: str, flagged: list[str]) -> None:
    assert unmatched(draft, ComputedFigures.of(CONTEXT))[0] == flagged


def test_the_task_counts_as_context() -> None:
    computed = ComputedFigures.of(CONTEXT, "Compare with the 2,500 target.")
    assert unmatched("Short of the 2,500 target.", computed) == ([], 1)
