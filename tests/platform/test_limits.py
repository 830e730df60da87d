"""The in-memory moving window and the limiter on it, with a clock the test moves by hand."""

from __future__ import annotations

import pytest

from mcp_workbench.platform.errors import RateLimited
from mcp_workbench.platform.limits import MemoryWindows, RateLimiter, parse_rates


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_admits_its_amount_then_says_how_long_to_wait() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    key = ("local", "data_read", "3 per 1 minute")
    for _ in range(3):
        assert windows.hit(key, 3, 60, 1) is None
        clock.now += 10
    # hits at 1000, 1010, 1020; now 1030: the first leaves the window at 1060
    assert windows.hit(key, 3, 60, 1) == pytest.approx(30)
    clock.now = 1060.0
    assert windows.hit(key, 3, 60, 1) is None  # the hit at 1000 has left
    assert windows.hit(key, 3, 60, 1) == pytest.approx(10)  # the next to leave is 1010's


def test_a_refused_hit_spends_nothing() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    key = ("local", "t", "5 per 1 second")
    assert windows.hit(key, 5, 1, 4) is None
    for _ in range(10):
        assert windows.hit(key, 5, 1, 2) is not None  # 4 + 2 > 5, again and again
    assert windows.hit(key, 5, 1, 1) is None  # exactly 5 fits


def test_a_costly_hit_waits_until_enough_units_have_left() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    key = ("local", "t", "10 per 1 minute")
    assert windows.hit(key, 10, 60, 4) is None  # at 1000
    clock.now += 20
    assert windows.hit(key, 10, 60, 4) is None  # at 1020
    clock.now += 10
    # 8 spent; 6 more needs 4 freed: the first hit (4 units) leaves at 1060, 30 s from now
    assert windows.hit(key, 10, 60, 6) == pytest.approx(30)
    # 12 more could never fit in 10: waits for everything to leave
    assert windows.hit(key, 10, 60, 12) == pytest.approx(60)


def test_windows_of_callers_that_went_quiet_are_swept() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    for caller in range(windows.SWEEP_EVERY - 1):
        assert windows.hit((f"key:{caller}", "t", "1 per 1 second"), 1, 1, 1) is None
    assert len(windows) == windows.SWEEP_EVERY - 1
    clock.now += 5
    assert windows.hit(("key:last", "t", "1 per 1 second"), 1, 1, 1) is None  # the sweep runs on this hit
    assert len(windows) == 1


def test_the_limiter_counts_per_caller_and_tool_with_operation_costs() -> None:
    clock = Clock()
    rejected: list[str] = []
    limiter = RateLimiter(
        default="4/minute",
        tools={"files_read": "1/second"},
        costs={"data_read": {"sql": 3}},
        storage="memory://",
        fail_open=True,
        on_reject=rejected.append,
        clock=clock,
    )
    limiter.spend_local("key:a", "data_read", "sql")  # 3 of 4
    limiter.spend_local("key:b", "data_read", "sql")  # another caller has its own budget
    limiter.spend_local("key:a", "data_read", "tables")  # 4 of 4
    with pytest.raises(RateLimited) as refused:
        limiter.spend_local("key:a", "data_read", None)
    assert refused.value.details == {"tool": "data_read", "limit": "4 per 1 minute", "retry_after_s": 60.0}
    assert rejected == ["data_read"]
    limiter.spend_local("key:a", "files_read", "read")  # another tool, its own limit
    with pytest.raises(RateLimited):
        limiter.spend_local("key:a", "files_read", "read")
    clock.now += 1
    limiter.spend_local("key:a", "files_read", "read")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("120/minute", [(120, 60)]),
        ("10/second; 1000/day", [(10, 1), (1000, 86_400)]),
        ("5 per 2 hours", [(5, 7200)]),
        ("3/minute, 100 per 1 hour | 1/year", [(3, 60), (100, 3600), (1, 31_104_000)]),
    ],
)
def test_rates_are_written_as_in_the_limits_library(text: str, expected: list[tuple[int, int]]) -> None:
    from limits import parse_many

    rates = parse_rates(text)
    assert [(rate.amount, rate.seconds) for rate in rates] == expected
    assert [str(rate) for rate in rates] == [str(item) for item in parse_many(text)]


@pytest.mark.parametrize("text", ["", "abc", "10", "10/fortnight", "/minute", "10/minute;"])
def test_what_is_not_a_rate_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rates(text)
