"""Advances: the live city's days, simulated on a thread of their own, one job at a time.

``POST /advance`` starts a job and answers at once; ``GET /advance/{job}`` follows it. Each
day of a job runs under the live city's locks (:meth:`LiveCity.simulating_day`), and the day's
end makes it durable and served (:meth:`LiveCity.finish_day`). A job that fails puts the city back
to its last whole day; a server that stops lets the running day finish and stops the job.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xinyong.engine.driver import drive
from xinyong.service.errors import LiveError

if TYPE_CHECKING:
    from xinyong.service.live import LiveCity

__all__ = ["AdvanceJob", "Advances"]

KEEP_JOBS = 100  # jobs remembered for GET /advance/{job}


@dataclass
class AdvanceJob:
    """An advance running (or run) on its own thread: from which day to which, and where."""

    job: int
    start_day: int
    target_day: int
    day: int
    status: str = "running"  # running, done, failed or stopped
    error: str | None = None
    code: int = 500  # the HTTP status a failure is answered with (507: a full disk)
    thread: threading.Thread | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        """The job as the API shows it."""
        return {
            "job": self.job,
            "status": self.status,
            "start_day": self.start_day,
            "target_day": self.target_day,
            "day": self.day,
            "error": self.error,
        }


class Advances:
    """The live city's advance jobs: at most one running.

    Args:
        live: the live city whose days the jobs simulate.
    """

    def __init__(self, live: LiveCity) -> None:
        self._live = live
        self._jobs: dict[int, AdvanceJob] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self, days: int) -> AdvanceJob:
        """Start simulating ``days`` days on a thread of its own; returns the job.

        Raises:
            LiveError: 409 if an advance is running, or if the scenario ends before.
        """
        live = self._live
        with self._lock:
            running = [j for j in self._jobs.values() if j.status == "running"]
            if running:
                raise LiveError(
                    409,
                    f"advance job {running[0].job} is running (day "
                    f"{running[0].day} of {running[0].target_day}): wait for "
                    f"it, GET /advance/{running[0].job}",
                )
            day = live.day
            if day + days > live.scenario.days:
                raise LiveError(
                    409,
                    f"the scenario ends after day {live.scenario.days - 1}: "
                    f"the city is at day {day}, so at most "
                    f"{live.scenario.days - day} more days; start a longer "
                    f"one to go on",
                )
            job = AdvanceJob(max(self._jobs, default=0) + 1, day, day + days, day)
            job.thread = threading.Thread(
                target=self._run, args=(job,), name=f"advance-{job.job}", daemon=True
            )
            self._jobs[job.job] = job
            for old in sorted(self._jobs)[:-KEEP_JOBS]:
                del self._jobs[old]
            job.thread.start()
            return job

    def get(self, job: int) -> AdvanceJob:
        """An advance job by number (404 if there is none)."""
        with self._lock:
            found = self._jobs.get(job)
        if found is None:
            raise LiveError(404, f"no advance job {job}")
        return found

    def run(self, days: int) -> int:
        """Simulate ``days`` days and wait for them; returns the new open day."""
        job = self.start(days)
        assert job.thread is not None
        job.thread.join()
        if job.status != "done":
            raise LiveError(
                job.code if job.status == "failed" else 409,
                f"advance job {job.job} {job.status}: {job.error}",
            )
        return job.day

    def stop(self) -> None:
        """Stop a running job after its day, and wait for it (the server is stopping)."""
        self._stopping.set()
        with self._lock:
            threads = [j.thread for j in self._jobs.values() if j.thread is not None]
        for thread in threads:
            thread.join(timeout=600)

    def _run(self, job: AdvanceJob) -> None:
        live = self._live

        def done(day: int) -> None:
            job.day = day

        try:
            drive(
                lambda: [live.city],
                job.target_day,
                guard=live.simulating_day,
                after_day=lambda city, results: live.finish_day(
                    city, results, last=city.day >= job.target_day
                ),
                stop=self._stopping.is_set,
                progress=done,
            )
            if job.day < job.target_day:
                job.status, job.error = "stopped", "the server is stopping"
                return
            job.status = "done"
        except Exception as exc:  # the job reports it; the city goes back to its last whole day
            said = live.failures.answer(exc)  # a full disk, a failed store: said as the API says
            job.status = "failed"
            job.error = str(said) if said else f"{type(exc).__name__}: {exc}"
            job.code = said.status if said else 500
            if live.failures.broken is None:
                live.roll_back()
