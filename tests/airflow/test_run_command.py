"""`brygga run` refuses what it cannot run before it starts anything: an unknown route, and connections that are not
configured (each named with who needs it and the variable that would set it)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.airflow


def _brygga(tmp_path, *args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    clean.update(BRYGGA_HOME=str(tmp_path / "home"), AIRFLOW_HOME=str(tmp_path / "airflow"), **env)
    return subprocess.run([sys.executable, "-m", "brygga.cli", "run", *args], capture_output=True, text=True,
                          env=clean, timeout=300, check=False)


def test_an_unknown_route_is_refused_with_the_known_ones(tmp_path):
    done = _brygga(tmp_path, "kumla-bygglv", "--simulators")
    assert done.returncode == 2 and done.stdout == ""
    assert "no route kumla-bygglv; known: kumla-bygglov, kumla-felanmalan, kumla-varmepump" in done.stderr


def test_connections_that_are_not_configured_are_named_before_anything_runs(tmp_path):
    done = _brygga(tmp_path, "kumla-bygglov", AIRFLOW_CONN_BYGGR_KUMLA="https://byggr.example.se/ws")
    assert done.returncode == 2 and done.stdout == ""
    assert "byggr_kumla" not in done.stderr, "the configured one is not named"
    assert "oep_kumla (notify; e.g. AIRFLOW_CONN_OEP_KUMLA)" in done.stderr
    assert "fastighetsregister_kumla (property_lookup; e.g. AIRFLOW_CONN_FASTIGHETSREGISTER_KUMLA)" in done.stderr
    assert "--simulators" in done.stderr
    assert not (tmp_path / "home" / "inbox").exists(), "nothing was dropped or run"
