"""The outbox relay as a DAG: every minute, publish what the ledger's outbox holds to the bus (docs/events.md).

A broker that is down fails the task (red; Airflow retries it); nothing is lost, the outbox keeps it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

RELAY_DAG_ID = "brygga_bus_relay"


def run_relay() -> dict[str, int]:
    from brygga.bus.relay import relay
    from brygga.bus.topology import subscriptions_from_routes
    from brygga.bus.transport import bus_url
    from brygga.ledger import Ledger
    from brygga.routes import load_routes
    from brygga.settings import Settings

    settings = Settings.from_env()
    routes = load_routes(settings.routes_file, settings.mappings_dir)
    result = relay(Ledger(settings.database_url), bus_url(settings), subscriptions_from_routes(routes))
    log.info("relay: %d published, %d left in the outbox", result.published, result.backlog)
    return {"published": result.published, "backlog": result.backlog}


def build_relay_dag():  # type: ignore[no-untyped-def]
    from airflow.sdk import dag, task

    @dag(dag_id=RELAY_DAG_ID, schedule="*/1 * * * *", start_date=datetime(2026, 1, 1), catchup=False,
         max_active_runs=1, tags=["brygga", "bus"], default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
         doc_md="Publishes the ledger's outbox (every submission state change and status event, as CloudEvents) to "
                "the bus. See docs/events.md.")
    def relay_dag() -> None:
        @task(task_id="relay")
        def relay_task() -> dict[str, int]:
            return run_relay()

        relay_task()

    return relay_dag()
