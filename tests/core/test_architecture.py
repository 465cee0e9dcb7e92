"""The core never imports Airflow, so it can be tested and benchmarked on its own."""

from __future__ import annotations

import ast
import subprocess
import sys

from brygga.settings import REPO_ROOT

CORE_PACKAGES = ("brygga", "adapters", "simulators", "conformance")


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


def test_the_core_never_imports_the_conformance_kit():
    """The kit is built on the core and the adapters; the core knows nothing of it."""
    offenders = [f"{path.relative_to(REPO_ROOT)} imports {name}" for path in (REPO_ROOT / "brygga").rglob("*.py")
                 for name in _imports(path) if name.startswith("brygga_conformance")]
    assert offenders == []


def test_importing_the_whole_core_loads_no_airflow():
    code = ("import sys, brygga.pipeline, brygga.cli, brygga_adapters.file; "
            "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _core_modules() -> list[str]:
    """Every package and module directly under brygga/, by its import name."""
    root = REPO_ROOT / "brygga"
    return sorted(f"brygga.{p.stem}" for p in root.iterdir()
                  if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists())


def test_every_core_module_imports_first_in_a_fresh_interpreter():
    """An import cycle only shows when the module on the cycle is the first one imported; so each goes first once."""
    from concurrent.futures import ThreadPoolExecutor

    def first_import(module: str) -> str | None:
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False)
        return None if done.returncode == 0 else f"{module}: {done.stderr.strip().splitlines()[-1]}"

    modules = _core_modules()
    assert "brygga.alerts" in modules and "brygga.pipeline" in modules
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(first_import, modules) if f]
    assert failures == []
