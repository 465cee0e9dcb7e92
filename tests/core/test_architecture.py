"""The core never imports Airflow, so it can be tested and benchmarked on its own."""

from __future__ import annotations

import ast
import subprocess
import sys

from brygga.settings import REPO_ROOT

CORE_PACKAGES = ("brygga", "adapters", "simulators")


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_no_core_module_imports_airflow():
    offenders = [
        f"{path.relative_to(REPO_ROOT)} imports {name}"
        for package in CORE_PACKAGES
        for path in (REPO_ROOT / package).rglob("*.py")
        for name in _imports(path)
        if name == "airflow" or name.startswith(("airflow.", "brygga_airflow"))
    ]
    assert offenders == []


def test_importing_the_whole_core_loads_no_airflow():
    code = ("import sys, brygga.pipeline, brygga.cli, brygga_adapters.file; "
            "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
