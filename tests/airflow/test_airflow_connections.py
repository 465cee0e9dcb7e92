"""Brygga's connections as Airflow parses and shows them: AIRFLOW_CONN_ URIs and JSON, form-style fields, the
provider entry point, and the hooks' test_connection against running servers.

Airflow runs in a subprocess with a temporary AIRFLOW_HOME, as in test_dag_file.py, so it reads its environment
at import as it does in production. The subprocess runs every probe once and prints one JSON document.
Needs the editable install to be current (the entry point lives in the package metadata).
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from brygga_simulators import start_simulator

pytestmark = pytest.mark.airflow

SECRET = "s3cret-Pw"

PROBE = r'''
import json, os
from airflow.models import Connection as ModelConnection
from airflow.providers_manager import ProvidersManager
from airflow.sdk import BaseHook
from brygga.connections import ConnectionNotFound
from brygga.errors import BryggaError
from brygga_adapters.http import endpoint_url
from brygga_airflow.connections import AirflowConnectionResolver, brygga_connection

out = {}

def endpoint(conn):
    try:
        return endpoint_url(conn)
    except BryggaError as exc:
        return "refused: " + str(exc)

resolver = AirflowConnectionResolver()
for conn_id in ("byggr_uri", "byggr_form", "byggr_typed_uri", "byggr_host_url", "sim_plain"):
    conn = resolver.get(conn_id)
    out[conn_id] = {"endpoint": endpoint(conn), "extra": conn.extra, "login": conn.login}
out["get_uri_of_byggr_uri"] = BaseHook.get_connection("byggr_uri").get_uri()
try:
    resolver.get("not_configured")
except ConnectionNotFound as exc:
    out["missing"] = str(exc)

# A Connection as the UI form saves it (airflow.models, with the JSON extra a text field).
form = ModelConnection(conn_id="byggr_ui", conn_type="brygga_soap", host="byggr.kommun.local", port=443,
                       schema="https", login="svc", password="pw-ui",
                       extra=json.dumps({"path": "/TekisArende/ArendeExportWS.svc", "allow_http": False}))
out["byggr_ui"] = endpoint(brygga_connection(form))

manager = ProvidersManager()
out["provider"] = manager.providers["brygga"].data["package-name"]
out["hooks"] = {t: manager.hooks[t].hook_class_name for t in ("brygga_soap", "brygga_http")}
out["testable"] = [manager.hooks[t].connection_testable for t in ("brygga_soap", "brygga_http")]
out["behaviour"] = manager.field_behaviours.get("brygga_soap")
out["widgets"] = sorted(k for k in manager.connection_form_widgets if k.startswith("extra__brygga_soap__"))

results = {}
for conn_id in ("sim_typed", "sim_refused", "rest_ok", "rest_denied", "rest_down"):
    hook = BaseHook.get_connection(conn_id).get_hook()  # found by conn_type
    results[conn_id] = [type(hook).__name__, *hook.test_connection()]
# An http-type connection (no hook of its own here) used with Brygga's hook class directly.
from brygga_airflow.provider.hooks import BryggaSoapHook
results["sim_plain"] = ["BryggaSoapHook", *BryggaSoapHook(brygga_conn_id="sim_plain").test_connection()]
# The path Airflow's UI takes: Connection.test_connection() finds the hook by conn_type.
results["sdk_sim_typed"] = list(BaseHook.get_connection("sim_typed").test_connection())
out["tests"] = results
print(json.dumps(out))
'''


class _Rest(http.server.BaseHTTPRequestHandler):
    """HEAD on /api answers 200, anything else 401: a REST target that wants other credentials."""

    def do_HEAD(self) -> None:
        self.send_response(200 if self.path == "/api" else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("airflow")
    rest = http.server.HTTPServer(("127.0.0.1", 0), _Rest)
    threading.Thread(target=rest.serve_forever, daemon=True).start()
    with start_simulator("byggr") as sim:
        host, port, path = sim.server.host, sim.server.port, sim.app.path
        rest_url = f"http://127.0.0.1:{rest.server_port}"
        connections = {
            # The URI form: the path lands in schema (and get_uri() would encode its / as %2F).
            "BYGGR_URI": f"https://svc:{SECRET}@byggr.kommun.local:8443/TekisArende/ArendeExportWS.svc?read_timeout=60",
            # JSON, the fields as the Airflow form has them.
            "BYGGR_FORM": json.dumps({
                "conn_type": "brygga_soap", "host": "byggr.kommun.local", "port": 443, "schema": "https",
                "login": "svc", "password": SECRET,
                "extra": {"path": "/TekisArende/ArendeExportWS.svc", "allow_http": False, "read_timeout": 60},
            }),
            "BYGGR_TYPED_URI": f"brygga-soap://svc:{SECRET}@byggr.kommun.local/TekisArende/ArendeExportWS.svc",
            "BYGGR_HOST_URL": json.dumps({"conn_type": "brygga_soap",
                                          "host": "https://byggr.kommun.local/TekisArende/ArendeExportWS.svc"}),
            # Hooks against running servers.
            "SIM_TYPED": json.dumps({"conn_type": "brygga_soap", "host": host, "port": port, "schema": "http",
                                     "login": "brygga", "password": SECRET,
                                     "extra": {"path": path, "allow_http": True}}),
            "SIM_PLAIN": f"http://brygga:{SECRET}@{host}:{port}{path}?allow_http=true",
            "SIM_REFUSED": json.dumps({"conn_type": "brygga_soap", "host": f"http://{host}:{port}{path}",
                                       "login": "brygga", "password": SECRET}),
            "REST_OK": json.dumps({"conn_type": "brygga_http", "host": f"{rest_url}/api", "login": "svc",
                                   "password": SECRET, "extra": {"allow_http": True}}),
            "REST_DENIED": json.dumps({"conn_type": "brygga_http", "host": f"{rest_url}/other",
                                       "extra": {"allow_http": True}}),
            "REST_DOWN": json.dumps({"conn_type": "brygga_http", "host": "127.0.0.1", "port": 9, "schema": "http",
                                     "password": SECRET, "extra": {"allow_http": True, "connect_timeout": 1}}),
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
        env.update({f"AIRFLOW_CONN_{key}": value for key, value in connections.items()})
        env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False")
        done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300,
                              check=False)
        sim_requests = list(sim.app.captured_requests)
    rest.shutdown()
    rest.server_close()
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["sim_requests"] = sim_requests
    result["sim_port"] = port
    yield result


BYGGR = "https://byggr.kommun.local{port}/TekisArende/ArendeExportWS.svc"


def test_uri_form_keeps_the_path_with_its_slash(probed):
    assert probed["byggr_uri"]["endpoint"] == BYGGR.format(port=":8443")
    assert probed["byggr_uri"]["extra"] == {"read_timeout": "60"}
    assert "%2F" in probed["get_uri_of_byggr_uri"]  # why Brygga reads the fields, never get_uri()


def test_form_fields_schema_as_scheme_and_path_extra(probed):
    assert probed["byggr_form"]["endpoint"] == BYGGR.format(port=":443")
    assert probed["byggr_form"]["extra"] == {"allow_http": "false", "read_timeout": "60"}
    assert probed["byggr_form"]["login"] == "svc"
    assert probed["byggr_ui"] == BYGGR.format(port=":443")


def test_brygga_types_default_to_https_and_host_may_be_a_url(probed):
    assert probed["byggr_typed_uri"]["endpoint"] == BYGGR.format(port="")
    assert probed["byggr_host_url"]["endpoint"] == BYGGR.format(port="")


def test_missing_connection_is_connection_not_found(probed):
    assert probed["missing"] == "Airflow connection 'not_configured' is not configured"


def test_providers_manager_sees_brygga_connection_types(probed):
    assert probed["provider"] == "brygga"
    assert probed["hooks"] == {
        "brygga_soap": "brygga_airflow.provider.hooks.BryggaSoapHook",
        "brygga_http": "brygga_airflow.provider.hooks.BryggaHttpHook",
    }
    assert probed["testable"] == [True, True]
    assert probed["behaviour"]["relabeling"]["schema"] == "Scheme (https) or path"
    assert probed["behaviour"]["placeholders"]["host"] == "byggr.kommun.local"
    assert "extra__brygga_soap__allow_http" in probed["widgets"]
    assert "extra__brygga_soap__wsdl" in probed["widgets"]


def test_soap_hook_test_connection_loads_the_wsdl_through_the_guards(probed):
    tests = probed["tests"]
    for conn_id in ("sim_typed", "sim_plain", "sdk_sim_typed"):
        ok, message = tests[conn_id][-2:]
        assert ok is True, message
        assert message.startswith("WSDL loaded; bound port ArendeExport/BasicHttpBinding_IExportArenden; calls go to ")
        assert message.endswith(":{port}/TekisArende/ArendeExportWS.svc".format(port=probed["sim_port"]))
    assert tests["sim_typed"][0] == "BryggaSoapHook"
    assert tests["sim_refused"][:2] == ["BryggaSoapHook", False]
    assert "rule: https-only" in tests["sim_refused"][2]
    assert probed["sim_requests"] == []  # testing fetches the WSDL only; nothing is posted


def test_rest_hook_test_connection_heads_the_base_url(probed):
    tests = probed["tests"]
    assert tests["rest_ok"][:2] == ["BryggaHttpHook", True] and tests["rest_ok"][2].endswith("/api: HTTP 200")
    assert tests["rest_denied"][1] is False and tests["rest_denied"][2].endswith("/other: HTTP 401")
    assert tests["rest_down"][1:] == [False, "connection 'rest_down': could not connect"]


def test_no_message_carries_the_password(probed):
    assert SECRET not in json.dumps({k: v for k, v in probed.items() if k != "get_uri_of_byggr_uri"})


def test_a_connection_airflow_cannot_read_now_is_not_taken_as_missing(monkeypatch):
    """Not configured (a route without that feature) and could not be read (the API server failed) differ: the
    second must fail the task for Airflow to retry, not quietly skip what the connection is for."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException, AirflowRuntimeError, ErrorType
    from airflow.sdk.execution_time.comms import ErrorResponse

    from brygga.connections import ConnectionNotFound, ConnectionUnavailable
    from brygga.faults import Fault, classify
    from brygga_airflow.connections import AirflowConnectionResolver

    def failing(conn_id: str) -> None:
        raise AirflowRuntimeError(ErrorResponse(error=ErrorType.API_SERVER_ERROR, detail={"status_code": 500}))

    def missing(conn_id: str) -> None:
        raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined")

    monkeypatch.setattr(BaseHook, "get_connection", staticmethod(failing))
    with pytest.raises(ConnectionUnavailable, match="could not be read: API_SERVER_ERROR") as unavailable:
        AirflowConnectionResolver().get("brygga_person_key")
    assert classify(unavailable.value) is Fault.INFRASTRUCTURE
    monkeypatch.setattr(BaseHook, "get_connection", staticmethod(missing))
    with pytest.raises(ConnectionNotFound):
        AirflowConnectionResolver().get("brygga_person_key")
