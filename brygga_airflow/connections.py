"""Resolve Brygga connections from Airflow Connections (UI, secrets backend or AIRFLOW_CONN_<ID>).

The endpoint is built from the Connection's fields (conn_type, host, port, schema, extras) as Airflow's own HTTP
connections build it, never from ``get_uri()``: that encodes a path's ``/`` as ``%2F``. The rules are in
``brygga.connections.Connection.from_fields`` and docs/connections.md.
"""

from __future__ import annotations

from typing import Any

from brygga.connections import Connection, ConnectionNotFound, ConnectionUnavailable


def brygga_connection(airflow_conn: Any) -> Connection:
    """The core's Connection for an Airflow Connection (``airflow.sdk`` or ``airflow.models``)."""
    return Connection.from_fields(
        airflow_conn.conn_id,
        conn_type=airflow_conn.conn_type,
        host=airflow_conn.host,
        port=airflow_conn.port,
        schema=airflow_conn.schema,
        login=airflow_conn.login,
        password=airflow_conn.password,
        extra=airflow_conn.extra_dejson,
    )


class AirflowConnectionResolver:
    def get(self, conn_id: str) -> Connection:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException, AirflowRuntimeError

        try:
            airflow_conn = BaseHook.get_connection(conn_id)
        except (AirflowNotFoundException, LookupError) as exc:
            raise ConnectionNotFound(f"Airflow connection {conn_id!r} is not configured") from exc
        except AirflowRuntimeError as exc:  # the Task SDK turns "not found" into the exception above; this is other
            reason = exc.error.error.value
            raise ConnectionUnavailable(f"Airflow connection {conn_id!r} could not be read: {reason}") from exc
        return brygga_connection(airflow_conn)
