"""`brygga run` refuses what it cannot run before it starts anything (an unknown route, connections that are not
configured, each named with who needs it and the variable that would set it), and runs a route on the connections
that are configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from brygga.routes import load_routes
from brygga.settings import REPO_ROOT
from brygga_airflow.run import ledger_shown, route_simulators
from brygga_simulators import start_simulator
from brygga_simulators.connections import simulate

pytestmark = pytest.mark.airflow


def _brygga(tmp_path, *args, **env):
    """`brygga run ARGS` in a shell with only BRYGGA_HOME and ``env`` set (AIRFLOW_HOME unset: Brygga's default)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    clean.update(BRYGGA_HOME=str(tmp_path / "home"), **env)
    return subprocess.run([sys.executable, "-m", "brygga.cli", "run", *args], capture_output=True, text=True,
                          env=clean, timeout=300, check=False)


def test_an_unknown_route_is_refused_with_the_known_ones(tmp_path):
    done = _brygga(tmp_path, "kumla-bygglv", "--simulators")
    assert done.returncode == 2 and done.stdout == ""
    assert ("no route kumla-bygglv; known: cesam-bygga-hus, kumla-bygglov, kumla-felanmalan, "
            "kumla-felanmalan-webhook, kumla-varmepump") in done.stderr


def test_connections_that_are_not_configured_are_named_before_anything_runs(tmp_path):
    done = _brygga(tmp_path, "kumla-bygglov", AIRFLOW_CONN_BYGGR_KUMLA="https://byggr.example.se/ws")
    assert done.returncode == 2 and done.stdout == ""
    assert "byggr_kumla" not in done.stderr, "the configured one is not named"
    assert "oep_kumla (notify; e.g. AIRFLOW_CONN_OEP_KUMLA)" in done.stderr
    assert "fastighetsregister_kumla (property_lookup; e.g. AIRFLOW_CONN_FASTIGHETSREGISTER_KUMLA)" in done.stderr
    assert "--simulators" in done.stderr
    assert not (tmp_path / "home" / "inbox").exists(), "nothing was dropped or run"


def test_a_route_runs_on_configured_connections_and_airflow_stays_in_brygga_home(tmp_path):
    sample = REPO_ROOT / "samples" / "open-eplatform" / "felanmalan-gatlykta.xml"
    # The kommun's callback and work-order system, as far as this run knows.
    with start_simulator("oep-callback") as callback, simulate("rest", tmp_path / "workorder") as workorder:
        done = _brygga(tmp_path, "kumla-felanmalan", str(sample), "--json", HOME=str(tmp_path / "user"),
                       AIRFLOW_CONN_OEP_KUMLA=f"{callback.url}?allow_http=true",
                       AIRFLOW_CONN_WORKORDER_KUMLA=workorder.uri)
        operations = [c.operation for c in callback.app.calls]
        (order,) = [o["orderNumber"] for o in workorder.running.app.orders]
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = json.loads(done.stdout)["files"]
    assert result["state"] == "delivered" and result["case_type"] == "felanmalan"
    assert result["diarienummer"] == order
    assert operations == ["setStatus", "addMessage", "confirmDelivery"]
    assert (tmp_path / "home" / "airflow" / "airflow.db").is_file()
    assert not (tmp_path / "user" / "airflow").exists(), "no Airflow home of its own in the user's HOME"


def test_the_ledger_is_named_without_its_password():
    shown = ledger_shown("postgresql+psycopg2://brygga:S3cretPw@postgres/brygga")
    assert "S3cretPw" not in shown and shown.startswith("postgresql+psycopg2://brygga:")


def test_simulators_stand_in_for_connections_only_while_they_run(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_OEP_KUMLA", "https://etjanster.kumla.example/callback")
    monkeypatch.delenv("AIRFLOW_CONN_BYGGR_KUMLA", raising=False)
    route = next(r for r in load_routes(REPO_ROOT / "routes" / "routes.yaml", REPO_ROOT / "mappings")
                 if r.id == "kumla-bygglov")
    with route_simulators(route, tmp_path) as started:
        assert set(started) == {"byggr_kumla", "oep_kumla", "fastighetsregister_kumla", "mina_meddelanden_kumla"}
        uri = started["oep_kumla"].uri
        assert os.environ["AIRFLOW_CONN_OEP_KUMLA"] == uri and "brygga:" in uri  # the stand-in's own account
    assert os.environ["AIRFLOW_CONN_OEP_KUMLA"] == "https://etjanster.kumla.example/callback"
    assert "AIRFLOW_CONN_BYGGR_KUMLA" not in os.environ
