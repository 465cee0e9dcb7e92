"""Brygga's Airflow plugin: the webhook intake, the validation API and the admin view, served by Airflow's own API
server.

``BryggaPlugin`` mounts ``brygga_adapters.webhook.create_app`` under ``/brygga/webhook`` (so a platform posts to
``https://<airflow>/brygga/webhook/routes/<route>/submissions``). Airflow does not authenticate a plugin's
endpoints: the app checks each request's HMAC signature itself, with the secret from the route's Airflow
Connection. After landing a submission it starts a run of the route's DAG through Airflow's own
``trigger_dag``, in the API server process, on its metadata database; the route's schedule stays the safety net.

It mounts the validation API (``brygga.catalog.api``) under ``/brygga/validation``: vendors list and fetch the
published schemas and validate payloads against them. It has no auth on purpose: it serves public schemas and
keeps nothing of what it is sent.

It also mounts the admin view (``brygga_airflow.admin_view``) under ``/brygga/admin`` and puts it in Airflow's menu
as "Brygga" (an external view shown inside Airflow's UI). That app checks every request against Airflow's auth
manager itself; after a replay it queues a run of the route's DAG the same way.

Registered as an ``airflow.plugins`` entry point, it is loaded wherever Airflow loads plugins; the API server loads
them when it builds its app, whatever ``[core] lazy_load_plugins`` says. Importing this module is cheap: the app
reads settings, routes and connections per request, not at import.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from airflow.plugins_manager import AirflowPlugin

from brygga.catalog.api import create_app as create_validation_app
from brygga.connections import Connection, ConnectionNotFound
from brygga_adapters.webhook import create_app
from brygga_airflow.admin_view import URL_PREFIX as ADMIN_URL_PREFIX
from brygga_airflow.admin_view import create_app as create_admin_app
from brygga_airflow.connections import brygga_connection
from brygga_airflow.dag_factory import dag_id_for

log = logging.getLogger("brygga.airflow.webhook")

URL_PREFIX = "/brygga/webhook"
VALIDATION_URL_PREFIX = "/brygga/validation"


class _RouteName(NamedTuple):
    id: str  # dag_id_for reads a route's id only


def run_id_for(submission_id: str) -> str:
    """One run per pushed submission at most: a second trigger for it (a duplicate push) finds this run."""
    return f"brygga_webhook__{submission_id}"


def trigger_route_run(route_id: str, submission_id: str) -> None:
    """Queue a run of the route's DAG, unless one is already queued: a queued run has not started its intake, so
    it will take this submission from the ledger too (a burst of pushes is one run, not one each)."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.exceptions import DagRunAlreadyExists
    from airflow.models.dagrun import DagRun
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType

    dag_id = dag_id_for(_RouteName(route_id))  # type: ignore[arg-type]
    if DagRun.find(dag_id=dag_id, state=DagRunState.QUEUED):
        log.info("route %s: a queued run will take submission %s", route_id, submission_id)
        return
    try:
        trigger_dag(dag_id, run_id=run_id_for(submission_id), conf={"submission_id": submission_id},
                    triggered_by=DagRunTriggeredByType.REST_API, triggering_user_name="brygga-webhook")
    except DagRunAlreadyExists:
        log.info("route %s: submission %s already has its run", route_id, submission_id)
        return
    log.info("route %s: queued run %s of %s", route_id, run_id_for(submission_id), dag_id)


def trigger_replay_run(route_id: str, actor: str) -> bool:
    """After a replay in the admin view: queue a run of the route's DAG, unless one is queued already (it takes the
    replayed submissions too). True when a run is queued now."""
    from datetime import UTC, datetime

    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.models.dagrun import DagRun
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType

    dag_id = dag_id_for(_RouteName(route_id))  # type: ignore[arg-type]
    if DagRun.find(dag_id=dag_id, state=DagRunState.QUEUED):
        return True
    run_id = f"brygga_replay__{datetime.now(UTC):%Y%m%dT%H%M%S.%f}"
    trigger_dag(dag_id, run_id=run_id, triggered_by=DagRunTriggeredByType.REST_API, triggering_user_name=actor)
    log.info("route %s: %s replayed submissions; queued run %s of %s", route_id, actor, run_id, dag_id)
    return True


class ServerConnectionResolver:
    """Airflow Connections as the API server reads them: secrets backends, then the metadata database."""

    def get(self, conn_id: str) -> Connection:
        from airflow.exceptions import AirflowNotFoundException
        from airflow.models.connection import Connection as AirflowConnection

        try:
            found = AirflowConnection.get_connection_from_secrets(conn_id)
        except AirflowNotFoundException as exc:
            raise ConnectionNotFound(f"Airflow connection {conn_id!r} is not configured") from exc
        return brygga_connection(found)


class BryggaPlugin(AirflowPlugin):
    name = "brygga"
    fastapi_apps = [  # noqa: RUF012 (Airflow reads this class attribute)
        {"name": "Brygga webhook intake", "url_prefix": URL_PREFIX,
         "app": create_app(trigger=trigger_route_run, connections=ServerConnectionResolver())},
        {"name": "Brygga admin", "url_prefix": ADMIN_URL_PREFIX,
         "app": create_admin_app(connections=ServerConnectionResolver(), trigger=trigger_replay_run)},
        {"name": "Brygga validation API", "url_prefix": VALIDATION_URL_PREFIX, "app": create_validation_app()},
    ]
    # "Brygga" in the Airflow UI's main menu, showing the admin view inside Airflow at /plugin/brygga.
    external_views = [  # noqa: RUF012 (Airflow reads this class attribute)
        {"name": "Brygga", "href": f"{ADMIN_URL_PREFIX}/", "destination": "nav", "url_route": "brygga",
         "nav_top_level": True},
    ]
