"""Airflow's own DagBag loads dags/ without import errors and finds one DAG per route, steps in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from brygga.settings import REPO_ROOT

pytestmark = pytest.mark.airflow

PROBE = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={dags!r})
dag = bag.dags.get("brygga_route_kumla_bygglov")
print(json.dumps({{
    "errors": {{k: v[-300:] for k, v in bag.import_errors.items()}},
    "dags": sorted(bag.dags),
    "order": [t.task_id for t in dag.topological_sort()] if dag else [],
    "max_active_runs": dag.max_active_runs if dag else None,
}}))
"""


def _load(tmp_path, routes: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env.update(AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__LOAD_EXAMPLES="False", BRYGGA_HOME=str(tmp_path / "b"))
    if routes:
        env["BRYGGA_ROUTES"] = routes
    code = PROBE.format(dags=str(REPO_ROOT / "dags"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dag_folder_loads_one_dag_per_route_with_steps_in_order(tmp_path):
    found = _load(tmp_path)
    assert found["errors"] == {}
    assert found["dags"] == ["brygga_retention_kumla_bygglov", "brygga_route_kumla_bygglov"]
    assert found["order"] == ["intake", "translate", "deliver", "archive", "notify", "check"]
    assert found["max_active_runs"] == 1


def test_an_invalid_routes_file_is_an_import_error_that_names_the_rule(tmp_path):
    bad = tmp_path / "routes.yaml"
    bad.write_text("routes:\n  - id: Bad Id\n")
    found = _load(tmp_path, routes=str(bad))
    (message,) = found["errors"].values()
    assert "routes.yaml" in message and "rule:" in message
