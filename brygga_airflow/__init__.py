"""The Airflow side of Brygga: connections from Airflow, the route DAG factory and the demo runner.

The core (``brygga``) never imports Airflow; this package is the only place that does.
"""
