"""The route DAG under Airflow: `brygga demo --json` runs it with dag.test() against a migrated SQLite
Airflow DB in a temporary AIRFLOW_HOME, over real HTTP to the simulators. Run in a subprocess, so
Airflow reads the temporary home from its environment at import, as it does in production."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from brygga.archive import verify_package
from brygga.settings import REPO_ROOT

pytestmark = pytest.mark.airflow
SAMPLES = REPO_ROOT / "samples" / "open-eplatform"


def test_demo_json_runs_the_dag_end_to_end(tmp_path):
    files = [SAMPLES / n for n in ("bygglov-person.xml", "bygglov-person.xml", "attefall-latin1.xml",
                                   "bygglov-malformed.xml")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env["BRYGGA_VAR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "brygga.cli", "demo", "--json", *map(str, files)],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (output,) = json.loads(done.stdout)["runs"]  # files given: the main route only
    results = output["files"]
    assert [r["file"] for r in results] == [str(f) for f in files]
    first, again, attefall, malformed = results
    assert output["route"] == "kumla-bygglov"
    assert set(first) == {"file", "state", "case_type", "diarienummer", "archive_package", "reasons"}
    assert first["state"] == "delivered" and re.match(r"^BN \d{4}-\d{6}$", first["diarienummer"])
    assert again == first, "the same file twice is one submission and one case"
    # Another e-service through the same inbox: dispatched to its own mapping, registered in the same case system.
    assert (first["case_type"], attefall["case_type"]) == ("bygglov", "attefall")
    assert attefall["state"] == "delivered" and attefall["diarienummer"] != first["diarienummer"]
    package = Path(first["archive_package"])
    assert package.is_relative_to(tmp_path) and verify_package(package) == []
    assert malformed["state"] == "quarantined" and malformed["diarienummer"] is None
    assert any("not well-formed" in reason for reason in malformed["reasons"])
    assert (tmp_path / "airflow" / "airflow.db").exists(), "dag.test() ran against the temporary Airflow home"
    # The malformed file was quarantined: the run ends red at its check task, where Airflow's alerting sees it.
    assert output["airflow"]["run"] == "failed"
    # Intake, then translate..notify in one `process` task per chunk of the batch (one chunk here), then check.
    assert output["airflow"]["tasks"] == {"intake": "success", "process": "success", "check": "failed"}
    assert output["airflow"]["chunks"] == {"process": 1}
    # Every step the ledger recorded names the Airflow task instance that ran it: the trace links to it.
    (ledger_file,) = tmp_path.rglob("ledger.sqlite")
    with sqlite3.connect(ledger_file) as db:
        steps = db.execute("SELECT step, dag_id, task_id, run_id, try_number FROM steps").fetchall()
    recorded = {(step, task) for step, dag, task, _, _ in steps if dag == "brygga_route_kumla_bygglov"}
    assert len(recorded) == len({(step, task) for step, _, task, _, _ in steps})
    assert {("intake", "intake"), ("translate", "process"), ("notify", "process")} <= recorded <= {
        ("intake", "intake"), *((name, "process") for name in ("translate", "deliver", "archive", "notify"))}
    assert all(run_id and try_number == 1 for *_, run_id, try_number in steps)


# A case system that quotes the request in its fault: a personnummer, a name, an e-mail address and a phone number.
QUOTING_FAULT = ("Personnummer 19121212-1212 (Tolvan Tolvansson, tolvan@example.se, 070-123 45 67) "
                 "har redan ett ärende")
# What a fault's text is masked for (issue 6): numbers, e-mail and phone. A bare name cannot be told from other words.
QUOTED_VALUES = ("19121212-1212", "121212-1212", "tolvan@example.se", "070-123 45 67")


def test_a_failing_target_shows_red_in_airflow_and_its_fault_text_nowhere_in_clear(tmp_path):
    plan = json.dumps([{"operation": "SaveNewArende", "action": "soap_fault", "faultcode": "Client",
                        "faultstring": QUOTING_FAULT}])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env["BRYGGA_VAR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "brygga.cli", "demo", "--byggr-fault-plan", plan,
                           str(SAMPLES / "bygglov-person.xml")],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Airflow run: failed" in done.stdout and "check failed" in done.stdout
    assert "QUARANTINED" in done.stdout and "SOAP fault s:Client" in done.stdout, "the admin still sees the rule"
    home = tmp_path / "demo"
    found = subprocess.run([sys.executable, "-m", "brygga.cli", "--home", str(home), "find", "2001", "--json"],
                           capture_output=True, text=True, env=env, timeout=120, check=False)
    (submission,) = json.loads(found.stdout)
    traced = subprocess.run([sys.executable, "-m", "brygga.cli", "--home", str(home), "trace", submission["id"]],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert "[redacted]" in traced.stdout
    ledger = sqlite3.connect(home / "ledger.sqlite")
    errors = [row[0] for row in ledger.execute("SELECT reasons FROM quarantine UNION ALL SELECT last_error FROM "
                                               "deliveries UNION ALL SELECT detail FROM steps")]
    everywhere = {"demo output": done.stdout + done.stderr, "brygga find": found.stdout, "brygga trace": traced.stdout,
                  "airflow-run.log": (home / "airflow-run.log").read_text(encoding="utf-8"),
                  "ledger error columns": "\n".join(str(e) for e in errors)}
    assert "[redacted]" in everywhere["ledger error columns"]
    for where, text in everywhere.items():
        for value in QUOTED_VALUES:
            assert value not in text, f"{value!r} in clear in {where}"
