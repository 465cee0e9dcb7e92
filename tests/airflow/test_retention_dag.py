"""The retention (gallring) DAG of a route: it builds as Airflow expects, and a run purges what is due as `airflow`.

Run in subprocesses with a temporary AIRFLOW_HOME, so Airflow reads it from its environment at import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from brygga.ledger import Ledger, State
from brygga.settings import REPO_ROOT, Settings
from brygga.storage import ContentStore

pytestmark = pytest.mark.airflow

BUILD = """
import dataclasses, json
from brygga.routes import load_routes
from brygga.settings import REPO_ROOT, Settings
from brygga_airflow.retention_dag import build_retention_dag
settings = Settings.from_env()
(route,) = [r for r in load_routes(settings.routes_file, settings.mappings_dir) if r.id == "kumla-bygglov"]
dag = build_retention_dag(route)
try:
    build_retention_dag(dataclasses.replace(route, retention=None))
    refused = False
except ValueError:
    refused = True
print(json.dumps({"dag_id": dag.dag_id, "schedule": str(dag.schedule), "catchup": dag.catchup,
                  "max_active_runs": dag.max_active_runs, "tags": sorted(dag.tags),
                  "tasks": [t.task_id for t in dag.tasks], "refused_without_retention": refused}))
"""

RUN = """
import importlib.util, subprocess, sys
from pathlib import Path
migrated = subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], capture_output=True,
                          text=True)
assert migrated.returncode == 0, migrated.stderr[-2000:]
spec = importlib.util.spec_from_file_location("brygga_routes", {dag_file!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.brygga_retention_kumla_bygglov.test()
"""


def _env(tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               BRYGGA_HOME=str(tmp_path / "brygga"))
    return env


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_the_retention_dag_builds_daily_one_run_at_a_time(tmp_path):
    found = json.loads(_python(BUILD, _env(tmp_path)).stdout.strip().splitlines()[-1])
    assert found == {"dag_id": "brygga_retention_kumla_bygglov", "schedule": "@daily", "catchup": False,
                     "max_active_runs": 1, "tags": ["1881", "brygga", "gallring"], "tasks": ["purge"],
                     "refused_without_retention": True}


def test_a_run_of_the_retention_dag_purges_what_is_due_as_airflow(tmp_path):
    env = _env(tmp_path)
    settings = Settings.from_env(env)
    settings.ensure_dirs()
    ledger = Ledger(settings.database_url)
    ids = {}
    for name, days in (("due", 100), ("recent", 10)):
        sha, path = ContentStore(settings.landing).put(name.encode())
        sid = ledger.land(route_id="kumla-bygglov", tenant="1881", content_sha256=sha, raw_path=str(path),
                          source_name=f"{name}.xml").submission_id
        ledger.update(sid, state=State.COMPLETED, canonical_json='{"attachments": []}', archive_location="/a",
                      updated_at=datetime.now(UTC) - timedelta(days=days))
        ids[name] = sid
    ledger.engine.dispose()

    dags = REPO_ROOT / "dags"  # the DAG file Airflow reads: a route with retention gets its retention DAG
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    _python(RUN.format(dag_file=str(dags / "brygga_routes.py")), env)

    assert ledger.get(ids["due"]).purged_at is not None and ledger.get(ids["due"]).canonical_json is None
    assert ledger.get(ids["recent"]).purged_at is None
    assert [(e.submission_id, e.actor, e.action) for e in ledger.audit_log()] == [(ids["due"], "airflow", "purge")]
