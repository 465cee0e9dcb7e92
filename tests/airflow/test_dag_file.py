"""Airflow's own DagBag loads dags/ without import errors and finds one DAG per route, tasks in order, from any
routes file: the bundled one and one with more routes than it."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest
import yaml

from brygga.routes import load_routes
from brygga.settings import REPO_ROOT
from brygga.status.config import load_status_feeds
from brygga_airflow.bus_dag import RELAY_DAG_ID
from brygga_airflow.dag_factory import dag_id_for
from brygga_airflow.retention_dag import retention_dag_id_for
from brygga_airflow.status_dag import status_dag_id_for

pytestmark = pytest.mark.airflow

PROBE = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={dags!r})
routes = {{k: d for k, d in bag.dags.items() if k.startswith("brygga_route_")}}
print(json.dumps({{
    "errors": {{k: v[-300:] for k, v in bag.import_errors.items()}},
    "dags": sorted(bag.dags),
    "order": {{k: [t.task_id for t in d.topological_sort()] for k, d in routes.items()}},
    "status_order": {{k: [t.task_id for t in d.topological_sort()] for k, d in bag.dags.items()
                      if k.startswith("brygga_status_")}},
    "max_active_runs": {{k: d.max_active_runs for k, d in routes.items()}},
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


STEPS = ["intake", "process", "check"]  # translate..notify run in `process`, mapped over chunks of the batch


def _expected_dags(routes_file) -> list[str]:
    """A route DAG per route, a retention DAG per route with retention, a status DAG per feed, and the relay."""
    routes = load_routes(routes_file, REPO_ROOT / "mappings")
    feeds = load_status_feeds(routes_file, REPO_ROOT / "mappings")
    return sorted([dag_id_for(r) for r in routes] + [retention_dag_id_for(r) for r in routes if r.retention]
                  + [status_dag_id_for(f) for f in feeds] + [RELAY_DAG_ID])


def test_dag_folder_loads_one_dag_per_route_with_steps_in_order(tmp_path):
    found = _load(tmp_path)
    assert found["errors"] == {}
    bundled = REPO_ROOT / "routes" / "routes.yaml"
    assert found["dags"] == _expected_dags(bundled) and len(found["order"]) == len(load_routes(
        bundled, REPO_ROOT / "mappings"))
    assert set(map(tuple, found["order"].values())) == {tuple(STEPS)}
    assert set(found["max_active_runs"].values()) == {1}
    assert set(found["status_order"]) == {"brygga_status_byggr_kumla", "brygga_status_byggr_kinda",
                                          "brygga_status_workorder_kumla", "brygga_status_workorder_ydre"}
    assert set(map(tuple, found["status_order"].values())) == {("poll", "tell")}


def test_a_routes_file_with_more_routes_gives_a_dag_for_each(tmp_path):
    document = yaml.safe_load((REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8"))
    first = document["routes"][0]
    for kommun in ("1880", "1882"):  # two more kommuner with the first route's shape, without retention
        document["routes"].append({**copy.deepcopy(first), "id": f"k{kommun}-bygglov",
                                   "tenant": {**document["tenants"][first["tenant"]], "kommunkod": kommun},
                                   "source": {"adapter": "file-inbox", "config": {"path": f"inbox/k{kommun}"}}})
        del document["routes"][-1]["retention"]
    routes_file = tmp_path / "many.yaml"
    routes_file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    found = _load(tmp_path, routes=str(routes_file))
    assert found["errors"] == {}
    assert found["dags"] == _expected_dags(routes_file)
    assert {"brygga_route_k1880_bygglov", "brygga_route_k1882_bygglov"} <= set(found["order"])
    assert "brygga_retention_k1880_bygglov" not in found["dags"]


def test_an_invalid_routes_file_is_an_import_error_that_names_the_rule(tmp_path):
    bad = tmp_path / "routes.yaml"
    bad.write_text("routes:\n  - id: Bad Id\n")
    found = _load(tmp_path, routes=str(bad))
    (message,) = found["errors"].values()
    assert "routes.yaml" in message and "rule:" in message
