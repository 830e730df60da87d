"""The example task and context the analysis tests analyse: a short sales report with figures."""

from __future__ import annotations

TASK = "How did sales go in March?"
REPORT = (
    "Monthly report. In March the shop sold 120 units, up from 95 in February. "
    'Returns stayed low at 4 units. The manager wrote: "March was our best month since the opening."'
)
CONTEXT = [{"kind": "text", "text": REPORT, "title": "report"}]
