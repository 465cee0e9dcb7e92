"""Airflow picks up one DAG per route in the routes file (BRYGGA_ROUTES, default routes/routes.yaml)."""

from brygga_airflow.dag_factory import route_dags

globals().update(route_dags())
