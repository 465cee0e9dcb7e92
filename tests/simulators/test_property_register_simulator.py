"""The property register simulator answers like a municipal REST register, failures included."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import jsonschema
import pytest
import requests

from brygga_simulators import RunningSimulator, simulator_class, start_simulator
from brygga_simulators.property_register import SEEDED_UNITS, PropertyRegisterSimulator
from brygga_simulators.rest_server import MAINTENANCE_HTML

AUTH = ("brygga", "s3cret")


@pytest.fixture
def register() -> Iterator[RunningSimulator]:
    with start_simulator("property-register", basic_auth="brygga:s3cret") as running:
        yield running


def _search(register: RunningSimulator, auth: tuple[str, str] | None = AUTH, **params: str) -> requests.Response:
    return requests.get(f"{register.url}/fastigheter", params=params, auth=auth, timeout=10)


def test_registered_by_name():
    assert simulator_class("property-register") is PropertyRegisterSimulator


def test_seeded_kumla_stenen(register):
    response = _search(register, beteckning="KUMLA STENEN 1:23")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    (unit,) = response.json()
    assert unit["fnr"] == 22044332
    assert unit["objektidentitet"] == "909a6a63-5f3b-90ec-e040-ed8f66444c3f"
    assert unit["kommunkod"] == "1881"


def test_search_starts_with_and_ignores_case_and_spacing(register):
    found = _search(register, beteckning="  kumla  stenen 1:2").json()

    assert sorted(unit["beteckning"] for unit in found) == ["KUMLA STENEN 1:2", "KUMLA STENEN 1:23"]


def test_unknown_unit_is_an_empty_list_or_404(register):
    assert _search(register, beteckning="KUMLA OKÄND 9:99").json() == []
    with start_simulator("property-register", not_found="404") as strict:
        response = _search(strict, auth=None, beteckning="KUMLA OKÄND 9:99")
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/problem+json"


def test_filters_narrow_a_reused_designation(register):
    assert len(_search(register, beteckning="SUNDSVALL NORRMALM 1:1").json()) == 2
    (current,) = _search(register, beteckning="SUNDSVALL NORRMALM 1:1", status="gällande").json()
    assert current["fnr"] == 20110011
    assert _search(register, beteckning="SUNDSVALL NORRMALM 1:1", kommunkod="1881").json() == []


@pytest.mark.parametrize(
    "params, detail",
    [({}, "query parameter beteckning is required"), ({"beteckning": "  "}, "query parameter beteckning is required"),
     ({"beteckning": "KUMLA STENEN 1:23", "kommun": "KUMLA"}, "unknown query parameter(s): kommun")],
)
def test_bad_searches_are_400_problems(register, params, detail):
    response = _search(register, **params)

    assert response.status_code == 400
    assert response.json() == {"status": 400, "title": "Bad Request", "detail": detail}


def test_only_get_and_known_paths(register):
    assert requests.post(f"{register.url}/fastigheter", auth=AUTH, timeout=10).status_code == 405
    assert requests.get(f"{register.url}/elsewhere", auth=AUTH, timeout=10).status_code == 404
    assert requests.get(f"{register.base_url}/outside", timeout=10).status_code == 404


def test_answers_match_the_served_openapi_document(register):
    document = requests.get(f"{register.url}/openapi.json", auth=AUTH, timeout=10).json()

    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "/api/fastighetsregister/v1"}]
    operation = document["paths"]["/fastigheter"]["get"]
    assert operation["parameters"][0] == {
        "name": "beteckning", "in": "query", "required": True, "schema": {"type": "string"}
    }
    schema = {"type": "array", "items": document["components"]["schemas"]["Fastighet"]}
    checker = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    everything = [unit.to_json() for unit in SEEDED_UNITS]
    checker.validate(everything)
    checker.validate(_search(register, beteckning="SUNDSVALL").json())
    with pytest.raises(jsonschema.ValidationError):
        checker.validate([{**everything[0], "fnr": "22044332"}])


# --- auth ----------------------------------------------------------------------------------------------------


def test_basic_auth_is_required_when_configured(register):
    for auth in (None, ("brygga", "wrong"), ("other", "s3cret")):
        response = _search(register, auth=auth, beteckning="KUMLA STENEN 1:23")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="brygga-simulator"'


def test_bearer_token_when_configured():
    with start_simulator("property-register", bearer_token="t0ken") as register:
        url = f"{register.url}/fastigheter"
        params = {"beteckning": "KUMLA STENEN 1:23"}
        ok = requests.get(url, params=params, headers={"Authorization": "Bearer t0ken"}, timeout=10)
        wrong = requests.get(url, params=params, headers={"Authorization": "Bearer other"}, timeout=10)
        basic = requests.get(url, params=params, auth=AUTH, timeout=10)

        assert ok.status_code == 200
        assert (wrong.status_code, basic.status_code) == (401, 401)
        assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_no_auth_unless_configured():
    with start_simulator("property-register") as register:
        assert _search(register, auth=None, beteckning="KUMLA STENEN 1:23").status_code == 200


# --- faults in front of the service -----------------------------------------------------------------------------------


def test_forced_status_is_a_bare_error(register):
    register.app.faults.set([{"action": "http_status", "status": 503}])

    response = _search(register, beteckning="KUMLA STENEN 1:23")
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/plain")


def test_maintenance_page_is_html_with_200(register):
    register.app.faults.set([{"action": "html_200"}])

    response = _search(register, beteckning="KUMLA STENEN 1:23")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text == MAINTENANCE_HTML


def test_delay(register):
    register.app.faults.set([{"action": "delay", "seconds": 0.3}])
    started = time.monotonic()

    assert _search(register, beteckning="KUMLA STENEN 1:23").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_reset_clears_the_fault_plan_and_requests(register):
    register.app.faults.set([{"action": "html_200"}])
    _search(register, beteckning="KUMLA STENEN 1:23")
    register.app.reset()

    assert register.app.recorded == []
    assert _search(register, beteckning="KUMLA STENEN 1:23").headers["Content-Type"] == "application/json"


# --- inspection ----------------------------------------------------------------------------------------------


def test_inspection_views_show_parameter_names_not_values(register):
    _search(register, beteckning="KUMLA STENEN 1:23", kommunkod="1881")
    _search(register, auth=None, beteckning="KUMLA STENEN 1:23")

    seen = requests.get(f"{register.base_url}/_sim/requests", timeout=10).json()
    assert seen == [
        {"method": "GET", "path": "/api/fastighetsregister/v1/fastigheter", "query": ["beteckning", "kommunkod"],
         "auth_scheme": "basic", "auth_user": "brygga", "status": 200},
        {"method": "GET", "path": "/api/fastighetsregister/v1/fastigheter", "query": ["beteckning"],
         "auth_scheme": None, "auth_user": None, "status": 401},
    ]
    assert "STENEN" not in str(seen)
    units = requests.get(f"{register.base_url}/_sim/units", timeout=10).json()
    assert len(units) == len(SEEDED_UNITS)
    assert requests.get(f"{register.base_url}/_sim/nothing", timeout=10).status_code == 404


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="not_found"):
        PropertyRegisterSimulator(not_found="maybe")
    with pytest.raises(ValueError, match="basic_auth"):
        PropertyRegisterSimulator(basic_auth="no-colon")
    with pytest.raises(TypeError, match="instance"):
        start_simulator(PropertyRegisterSimulator(), not_found="404")


# --- command line ----------------------------------------------------------------------------------------------


def test_runs_from_the_command_line():
    process = subprocess.Popen(
        [sys.executable, "-m", "brygga_simulators", "property-register", "--option", "basic_auth=brygga:s3cret"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline() if process.stdout else ""
        url = first.rsplit(" ", 1)[-1].strip()
        assert first.startswith("property-register simulator: http://127.0.0.1:")
        response = requests.get(f"{url}/fastigheter", params={"beteckning": "KUMLA STENEN 1:23"}, auth=AUTH,
                                 timeout=10)
        assert response.json()[0]["fnr"] == 22044332
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)  # a deadline for a clean exit, not a speed: a loaded CI host is slow to stop
    assert process.returncode == 0


def test_command_line_refuses_bad_options():
    result = subprocess.run(
        [sys.executable, "-m", "brygga_simulators", "property-register", "--option", "not_found=maybe"],
        capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 2
    assert "not_found must be 'empty' or '404'" in result.stderr
