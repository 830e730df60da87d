"""Worker processes for untrusted-input work: a job that overruns its budget, is cancelled,
outgrows its memory or crashes ends with its worker stopped, and the pool goes on working.

Real worker processes (forkserver); the work functions are module-level so a worker can import them.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import anyio
import pytest

from mcp_workbench.platform.errors import InvalidInput, TooLarge
from mcp_workbench.platform.isolation import BATCH_ITEMS, WorkerFailed, WorkerPool
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio

MB = 1024 * 1024


def spin(job: dict, emit) -> None:
    """Note the worker's pid, emit a batch of items (sent at once), then burn CPU forever."""
    Path(job["pid_file"]).write_text(str(os.getpid()))
    for index in range(BATCH_ITEMS):
        emit(index)
    while True:
        pass


def hog(size: int, _emit) -> int:
    return len(bytearray(size))


def echo(value: object, _emit) -> object:
    return value


def cpu_limit(_job: object, _emit) -> tuple[float, int]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, resource.getrlimit(resource.RLIMIT_CPU)[0]


def run_into_cpu_limit(_job: object, _emit) -> None:
    """Lower the worker's own CPU limit to one second from now and spin: the kernel ends it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (int(usage.ru_utime + usage.ru_stime) + 1, hard))
    while True:
        pass


def refuse(_job: object, _emit) -> None:
    raise InvalidInput("no", recovery_steps=["ask nicely"], details={"field": "x"})


def crash(_job: object, _emit) -> None:
    os._exit(3)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def gone(pid: int) -> None:
    await eventually(lambda: not alive(pid), f"worker {pid} has ended")


@pytest.fixture
async def pool():
    workers = WorkerPool("test-isolation", size=2, memory_bytes=256 * MB)
    try:
        yield workers
    finally:
        await workers.aclose()


class TestAJobIsStoppedWhenItsTimeIsUp:
    async def test_past_its_budget_the_worker_is_killed_and_the_items_so_far_are_kept(
        self, pool: WorkerPool, tmp_path: Path
    ) -> None:
        pid_file = tmp_path / "pid"
        assert (await pool.run(echo, "warm", budget_s=60)).result == "warm"  # this module imported in the worker
        outcome = await pool.run(spin, {"pid_file": str(pid_file)}, budget_s=1)
        assert outcome.killed and outcome.items == list(range(BATCH_ITEMS))
        await gone(int(pid_file.read_text()))
        assert (await pool.run(echo, "still works", budget_s=10)).result == "still works"

    async def test_a_cancelled_call_kills_its_worker(self, pool: WorkerPool, tmp_path: Path) -> None:
        pid_file = tmp_path / "pid"
        with anyio.move_on_after(3):
            await pool.run(spin, {"pid_file": str(pid_file)}, budget_s=600)
        await gone(int(pid_file.read_text()))
        assert (await pool.run(echo, 1, budget_s=10)).result == 1

    async def test_every_job_runs_under_a_cpu_limit_near_its_budget(self, pool: WorkerPool) -> None:
        for budget in (2.0, 30.0):
            used, limit = (await pool.run(cpu_limit, None, budget_s=budget)).result
            assert used < limit <= used + budget + 3, (budget, used, limit)

    async def test_a_worker_ended_by_its_cpu_limit_counts_as_out_of_time(self, pool: WorkerPool) -> None:
        outcome = await pool.run(run_into_cpu_limit, None, budget_s=120)
        assert outcome.killed
        assert (await pool.run(echo, 2, budget_s=10)).result == 2


class TestFailuresInsideAWorker:
    async def test_a_job_that_outgrows_its_memory_is_too_large(self, pool: WorkerPool) -> None:
        assert (await pool.run(hog, 16 * MB, budget_s=30)).result == 16 * MB
        with pytest.raises(TooLarge):
            await pool.run(hog, 1024 * MB, budget_s=30)
        assert (await pool.run(hog, 16 * MB, budget_s=30)).result == 16 * MB

    async def test_a_domain_error_comes_back_as_itself(self, pool: WorkerPool) -> None:
        with pytest.raises(InvalidInput) as raised:
            await pool.run(refuse, None, budget_s=10)
        assert raised.value.recovery_steps == ["ask nicely"] and raised.value.details == {"field": "x"}

    async def test_a_crashed_worker_is_a_worker_failure_and_is_replaced(self, pool: WorkerPool) -> None:
        with anyio.fail_after(60), pytest.raises(WorkerFailed):  # noticed as a death, not waited out
            await pool.run(crash, None, budget_s=600)
        assert (await pool.run(echo, 3, budget_s=10)).result == 3
