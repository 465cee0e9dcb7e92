"""Packaging that pyproject.toml cannot express: import names of our own for the top-level folders.

The repository keeps the layout a reader expects (``adapters/``, ``simulators/``, ``schemas/``, ...), but a wheel
must install only names of its own: ``adapters/`` becomes ``brygga_adapters``, ``simulators/`` becomes
``brygga_simulators`` and ``conformance/`` becomes ``brygga_conformance``. The data folders are copied into
``brygga/bundled/`` (see ``brygga/resources.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RENAMED = {"brygga_adapters": "adapters", "brygga_simulators": "simulators", "brygga_conformance": "conformance"}
# Must match brygga.resources.BUNDLED_FOLDERS; a test builds the wheel and checks both.
BUNDLED_FOLDERS = ("schemas", "mappings", "routes", "dags", "samples")
# Fixture suites and their test data stay in the repository: they point at files under tests/.
NOT_BUNDLED = shutil.ignore_patterns("__pycache__", "*.pyc", "conftest.py", "*_test.yaml", "testdata")


def packages() -> list[str]:
    found = find_packages(include=["brygga", "brygga.*", "brygga_airflow", "brygga_airflow.*"])
    for name, folder in RENAMED.items():
        found += [name, *(f"{name}.{sub}" for sub in find_packages(folder))]
    return found


class BuildPyWithBundledData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the folders in place
            return
        target = Path(self.build_lib) / "brygga" / "bundled"
        for folder in BUNDLED_FOLDERS:
            shutil.copytree(ROOT / folder, target / folder, ignore=NOT_BUNDLED, dirs_exist_ok=True)


setup(
    packages=packages(),
    package_dir=RENAMED,
    package_data={
        "brygga": ["py.typed", "schema_docs/templates/*.html", "schema_docs/static/*.css"],
        "brygga_simulators": ["*/*.wsdl", "*/*.xsd", "*/*.json"],
        "brygga_conformance": ["templates/*.html"],
        "brygga_airflow": ["admin_view/templates/*.html", "admin_view/static/*"],
    },
    cmdclass={"build_py": BuildPyWithBundledData},
)
