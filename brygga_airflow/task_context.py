"""What every Brygga task does first: say which Airflow task instance is running (brygga.provenance), so each step the
ledger records links to its run and task in Airflow's UI; and switch on the correlation id in logs and the metrics."""

from __future__ import annotations

import logging

from brygga.observability import configure_observability
from brygga.provenance import AirflowRun, bind_airflow_run

log = logging.getLogger(__name__)


def bind_current_task() -> AirflowRun | None:
    """Bind the running task instance; None (and nothing bound) outside a task, e.g. a DAG file parse or a unit test."""
    from airflow.sdk import get_current_context

    configure_observability()
    try:
        ti = get_current_context()["ti"]
    except (RuntimeError, KeyError):  # no task is running in this context
        bind_airflow_run(None)
        return None
    run = AirflowRun(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, try_number=getattr(ti, "try_number", None))
    bind_airflow_run(run)
    return run
