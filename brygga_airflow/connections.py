"""Resolve Brygga connections from Airflow Connections (UI, secrets backend or AIRFLOW_CONN_<ID>)."""

from __future__ import annotations

from brygga.connections import Connection, ConnectionNotFound


class AirflowConnectionResolver:
    def get(self, conn_id: str) -> Connection:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowRuntimeError

        try:
            airflow_conn = BaseHook.get_connection(conn_id)
        except (AirflowRuntimeError, LookupError) as exc:
            raise ConnectionNotFound(f"Airflow connection {conn_id!r} is not configured") from exc
        return Connection.from_uri(conn_id, airflow_conn.get_uri())
