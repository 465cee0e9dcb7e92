"""The route DAG under Airflow: `brygga demo --json` runs it with dag.test() against a migrated SQLite
Airflow DB in a temporary AIRFLOW_HOME, over real HTTP to the simulators. Run in a subprocess, so
Airflow reads the temporary home from its environment at import, as it does in production."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from brygga.archive import verify_package
from brygga.settings import REPO_ROOT

pytestmark = pytest.mark.airflow
SAMPLES = REPO_ROOT / "samples" / "open-eplatform"


def test_demo_json_runs_the_dag_end_to_end(tmp_path):
    files = [SAMPLES / n for n in ("bygglov-person.xml", "bygglov-person.xml", "bygglov-malformed.xml")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env["BRYGGA_VAR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "brygga.cli", "demo", "--json", *map(str, files)],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert [r["file"] for r in results] == [str(f) for f in files]
    first, again, malformed = results
    assert set(first) == {"file", "state", "diarienummer", "archive_package", "reasons"}
    assert first["state"] == "delivered" and re.match(r"^BN \d{4}-\d{6}$", first["diarienummer"])
    assert again == first, "the same file twice is one submission and one case"
    package = Path(first["archive_package"])
    assert package.is_relative_to(tmp_path) and verify_package(package) == []
    assert malformed["state"] == "quarantined" and malformed["diarienummer"] is None
    assert any("not well-formed" in reason for reason in malformed["reasons"])
    assert (tmp_path / "airflow" / "airflow.db").exists(), "dag.test() ran against the temporary Airflow home"
