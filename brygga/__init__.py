"""Brygga core: canonical model, mapping engine, routes, ledger and pipeline steps.

The core never imports Airflow, so it can be tested and benchmarked on its own.
"""

__version__ = "0.1.0"
