"""Brygga's admin view in Airflow's API server: search, trace, quarantine and health (see ``app``)."""

from brygga_airflow.admin_view.app import URL_PREFIX, create_app

__all__ = ["URL_PREFIX", "create_app"]
