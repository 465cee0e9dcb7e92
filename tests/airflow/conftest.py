"""The tests of the Airflow integration share one run of `brygga demo` (it takes minutes): the tour of every bundled
route, each route's real DAG once on simulators, on a ledger and Airflow home of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class DemoRun:
    var: Path  # BRYGGA_VAR of the run: demo/ is its Brygga home, airflow/ its AIRFLOW_HOME
    report: dict[str, Any]  # what `brygga demo --json` printed

    @property
    def brygga_home(self) -> Path:
        return self.var / "demo"

    @property
    def airflow_home(self) -> Path:
        return self.var / "airflow"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    var = tmp_path_factory.mktemp("demo-var")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env["BRYGGA_VAR"] = str(var)
    done = subprocess.run([sys.executable, "-m", "brygga.cli", "demo", "--json"], capture_output=True, text=True,
                          env=env, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return DemoRun(var, json.loads(done.stdout))
