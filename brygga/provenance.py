"""Who is doing the work right now: the Airflow task instance, and the submission (its correlation id).

Both are context variables, set where the work starts (an Airflow task, one submission's step) and read where it is
recorded or sent on: the ledger's step rows link to the Airflow run, and logs, outbound SOAP and REST headers and
CloudEvents carry the correlation id. The correlation id of a submission is its id: it is already in every ledger
row, CLI answer and admin page, so one id finds everything, and it is never personal data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# The HTTP header that carries the correlation id on outbound SOAP and REST calls.
CORRELATION_HEADER = "X-Correlation-ID"


@dataclass(frozen=True, slots=True)
class AirflowRun:
    """The task instance running now, as Airflow names it."""

    dag_id: str
    run_id: str
    task_id: str
    try_number: int | None = None

    def ui_path(self) -> str:
        """Where Airflow 3's UI shows this task instance, relative to its base URL."""
        from urllib.parse import quote

        return (f"/dags/{quote(self.dag_id, safe='')}/runs/{quote(self.run_id, safe='')}"
                f"/tasks/{quote(self.task_id, safe='')}")


_airflow_run: ContextVar[AirflowRun | None] = ContextVar("brygga_airflow_run", default=None)
_correlation_id: ContextVar[str | None] = ContextVar("brygga_correlation_id", default=None)


def airflow_run() -> AirflowRun | None:
    return _airflow_run.get()


def bind_airflow_run(run: AirflowRun | None) -> None:
    """Set for the rest of the task (an Airflow task runs in a process, or a thread's context, of its own)."""
    _airflow_run.set(run)


def correlation_id() -> str | None:
    return _correlation_id.get()


@contextmanager
def correlation(submission_id: str) -> Iterator[str]:
    """Work on one submission: everything logged or sent inside carries its id."""
    token = _correlation_id.set(submission_id)
    try:
        yield submission_id
    finally:
        _correlation_id.reset(token)
