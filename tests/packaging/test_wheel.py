"""A plain, non-editable install works: the wheel carries every file Brygga reads and only import names of its own.

The wheel is built from this checkout, installed into a fresh venv outside the repository, and used the way an
operator would (``brygga lint`` on the bundled routes and mappings, a translate of a sample) and the way a vendor
would (the conformance kit against a simulator, without Airflow).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from junitparser import JUnitXml

from brygga.resources import BUNDLED_FOLDERS
from brygga.settings import REPO_ROOT
from brygga_simulators import start_simulator

UV = Path(sys.executable).with_name("uv")
OWN_IMPORT_NAMES = {"brygga", "brygga_adapters", "brygga_airflow", "brygga_conformance", "brygga_simulators"}


def _completed(*args: str | Path, env: dict[str, str] | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def _run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = _completed(*args, env=env, cwd=cwd)
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert UV.is_file(), "uv is installed into .venv by the Makefile"
    # Built from a copy, so setuptools' build/ folder never lands in the checkout.
    source = tmp_path_factory.mktemp("source") / "brygga"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "var", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
    out = tmp_path_factory.mktemp("dist")
    _run(UV, "build", "--wheel", "--quiet", "--out-dir", out, source)
    (built,) = out.glob("brygga-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "v"
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    _run(UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheel)
    return venv


def test_the_wheel_installs_only_import_names_of_its_own(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == OWN_IMPORT_NAMES


def test_the_wheel_carries_the_data_folders_and_wsdls(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in BUNDLED_FOLDERS:
        shipped = {n for n in names if n.startswith(f"brygga/bundled/{folder}/")}
        assert shipped, f"{folder}/ is missing from the wheel"
    assert "brygga/bundled/schemas/canonical/case.v1.schema.json" in names
    assert "brygga/bundled/routes/routes.yaml" in names
    assert "brygga/bundled/dags/brygga_routes.py" in names
    assert {"brygga_simulators/byggr/ArendeExportWS.wsdl",
            "brygga_simulators/oep_callback/IntegrationCallbackService.wsdl",
            # The contracts the conformance kit checks replies against, its report and the reference pages.
            "brygga_simulators/workorder/openapi.json",
            "brygga_conformance/templates/report.html",
            "brygga/schema_docs/templates/schema.html",
            "brygga/schema_docs/static/style.css"} <= names
    # Fixture suites point into tests/, which a wheel does not have.
    assert not [n for n in names if n.endswith("_test.yaml") or n.endswith("conftest.py")]


def test_lint_and_translate_run_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    env = {"PATH": f"{installed / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    brygga = installed / "bin" / "brygga"
    assert _run(brygga, "lint", env=env, cwd=tmp_path).strip() == "ok"
    sample = REPO_ROOT / "samples" / "open-eplatform" / "bygglov-person.xml"
    out = _run(brygga, "translate", "--mapping", "open-eplatform/bygglov.yaml", sample, env=env, cwd=tmp_path)
    assert '"caseType": "bygglov"' in out
    # The installed code, not this checkout, did the work.
    where = _run(installed / "bin" / "python", "-c", "import brygga, brygga_adapters; "
                 "print(brygga.__file__); print(brygga_adapters.__file__)", env=env, cwd=tmp_path)
    assert str(REPO_ROOT) not in where and "site-packages" in where


@pytest.mark.parametrize("simulator", ["byggr", "ecos", "work-order", "oep-callback"])
def test_the_simulators_a_vendor_tries_the_kit_on_start_from_the_installed_wheel(installed: Path, tmp_path: Path,
                                                                                   simulator: str) -> None:
    """docs/vendors.md: `python -m brygga_simulators NAME` prints its URL and serves (each has its own imports)."""
    env = {"PATH": f"{installed / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    server = subprocess.Popen([str(installed / "bin" / "python"), "-m", "brygga_simulators", simulator, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()  # blocks until the simulator serves, or ends with nothing when it failed
        assert first.startswith(f"{simulator} simulator: http://127.0.0.1:"), server.stderr.read() if \
            server.poll() is not None else first
        served = urlsplit(first.split(": ", 1)[1].strip())
        assert requests.get(f"{served.scheme}://{served.netloc}/_sim/faults", timeout=30).ok
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_vendor_runs_the_conformance_kit_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """No Airflow (no extras), no checkout: the installed `brygga conformance` checks Brygga's own ByggR simulator
    and writes both reports into the folder it runs from."""
    env = {"PATH": f"{installed / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    assert _completed(installed / "bin" / "python", "-c", "import airflow", env=env, cwd=tmp_path).returncode != 0
    with start_simulator("byggr") as byggr:
        result = _completed(installed / "bin" / "brygga", "conformance", "--profile", "byggr-soap", "--endpoint",
                            byggr.url, env=env, cwd=tmp_path)
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    reports = tmp_path / "conformance-report"  # the default --report-dir
    assert f"JUnit XML: {Path('conformance-report') / 'junit.xml'}" in result.stdout
    (suite,) = list(JUnitXml.fromfile(str(reports / "junit.xml")))
    assert suite.name == "byggr-soap"
    assert suite.tests > 0 and (suite.failures, suite.errors) == (0, 0)
    assert {"byggr-soap.case-reference", "byggr-soap.idempotent-repeat"} <= {case.classname for case in suite}
    html = (reports / "report.html").read_text(encoding="utf-8")
    assert "Passed" in html and "byggr-soap" in html


def test_a_vendor_reads_the_schema_pages_and_validates_with_the_wheel(installed: Path, tmp_path: Path) -> None:
    env = {"PATH": f"{installed / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    brygga = installed / "bin" / "brygga"
    _run(brygga, "docs", "--out", "brygga-docs", env=env, cwd=tmp_path)
    page = (tmp_path / "brygga-docs" / "bygglov.html").read_text(encoding="utf-8")
    assert "Valid examples" in page and "details.bygglov" in page
    assert (tmp_path / "brygga-docs" / "schemas" / "case-1.1.0.schema.json").is_file()
    good = REPO_ROOT / "schemas" / "canonical" / "examples" / "bygglov-person.json"
    assert "valid against case@1.1.0" in _run(brygga, "validate", good, env=env, cwd=tmp_path)
    bad = REPO_ROOT / "samples" / "open-eplatform" / "bygglov-bad-personnummer.xml"
    refused = _completed(brygga, "validate", "--lang", "sv", bad, env=env, cwd=tmp_path)
    assert refused.returncode == 1 and "/parties/0/personnummer" in refused.stdout and "ogiltig" in refused.stdout
