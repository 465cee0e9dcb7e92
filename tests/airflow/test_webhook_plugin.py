"""Brygga's Airflow plugin in Airflow's own API server app: Airflow's plugins manager finds it (as an
``airflow.plugins`` entry point), mounts the webhook intake under /brygga/webhook, and a signed push lands the
submission and queues a real run of the route's DAG through Airflow's trigger_dag, in the server's process.

Run in a subprocess with a temporary AIRFLOW_HOME (migrated, the route's DAG serialized), so Airflow reads its
environment at import. The app is served by uvicorn on a real socket; stopping the server waits for the
trigger, which runs after the answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import requests

from brygga.errors import ConfigError
from brygga.settings import REPO_ROOT
from brygga_airflow.webhook_push import post_file

pytestmark = pytest.mark.airflow

ROUTE = "kumla-felanmalan-webhook"
SECRET = "b7e64c936f1c0d9a4be27e35c8a1f0d2a5d8f1e0c2b4a6d8e0f1a3c5b7d9e1f3"
ROUTES_YAML = f"""
routes:
  - id: {ROUTE}
    tenant: {{kommunkod: "1881", name: Kumla kommun, organisationsnummer: "212000-1819"}}
    source: {{adapter: webhook, connection: webhook_kumla}}
    mappings: [webhook/felanmalan.yaml]
    archive: {{adapter: archive-folder, config: {{path: archive-out}}}}
    schedule: "*/5 * * * *"
"""
PLUGIN = "brygga_airflow.plugin:BryggaPlugin"

SERVE = """
import json, socket, sys, threading
from pathlib import Path
import requests, uvicorn
from airflow import plugins_manager
from airflow.api_fastapi.app import create_app
from airflow.models.dagrun import DagRun
from brygga.ledger import Ledger
from brygga.settings import Settings
from brygga_adapters.webhook import sign

def serve_and_post(app, body, signed=True):
    sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}); thread.start()
    try:
        signature = sign(sys.argv[1], body, route_id=sys.argv[3]) if signed else {}
        headers = {"Content-Type": "application/json", **signature}
        answer = requests.post(f"http://127.0.0.1:{sock.getsockname()[1]}/brygga/webhook/routes/{sys.argv[3]}/submissions",
                               data=body, headers=headers, timeout=60)
    finally:
        server.should_exit = True
        thread.join()  # a graceful stop waits for the request's background task: the trigger
        sock.close()
    return answer.status_code, answer.json()

apps, _ = plugins_manager.get_fastapi_plugins()
found = [{"name": a["name"], "url_prefix": a["url_prefix"]} for a in apps]
app = create_app("core")
sample = Path(sys.argv[2]).read_bytes()
unsigned = serve_and_post(app, sample, signed=False)
first = serve_and_post(app, sample)
second = serve_and_post(app, json.dumps({**json.loads(sample), "event": "flowinstance.resubmitted"}).encode())
runs = [{"run_id": r.run_id, "state": str(r.state), "triggered_by": str(r.triggered_by), "conf": r.conf}
        for r in DagRun.find(dag_id="brygga_route_kumla_felanmalan_webhook")]
ledger = Ledger(Settings.from_env().database_url)
states = {key: ledger.get(answer[1]["submission_id"]).state for key, answer in (("first", first), ("second", second))}
print(json.dumps({"plugins": found, "unsigned": unsigned, "first": first, "second": second, "runs": runs,
                  "states": states}))
"""


def _plugin_entry_point(tmp_path: Path) -> str | None:
    """A folder for PYTHONPATH declaring the plugin's entry point, until Brygga's own metadata declares it (the
    line in pyproject.toml); Airflow's plugins manager reads either the same way."""
    if any(ep.value == PLUGIN for ep in entry_points(group="airflow.plugins")):
        return None
    dist = tmp_path / "entry-points" / "brygga_airflow_plugin-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brygga-airflow-plugin\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(f"[airflow.plugins]\nbrygga = {PLUGIN}\n")
    return str(dist.parent)


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_the_plugin_is_mounted_in_the_api_server_and_its_trigger_queues_a_dag_run(tmp_path):
    routes = tmp_path / "routes.yaml"
    routes.write_text(ROUTES_YAML, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               AIRFLOW__CORE__DAGS_FOLDER=str(REPO_ROOT / "dags"), BRYGGA_HOME=str(tmp_path / "brygga"),
               BRYGGA_ROUTES=str(routes),
               # The secret is the Airflow Connection's password; the host names the platform that pushes.
               AIRFLOW_CONN_WEBHOOK_KUMLA=f"generic://:{SECRET}@etjanster.kumla.example")
    shim = _plugin_entry_point(tmp_path)
    if shim:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [shim, env.get("PYTHONPATH")]))
    airflow = str(Path(sys.executable).with_name("airflow"))
    _run([airflow, "db", "migrate"], env)
    _run([airflow, "dags", "reserialize"], env)  # what the dag processor does: the DAG is in the database
    done = _run([sys.executable, "-c", SERVE, SECRET, str(REPO_ROOT / "samples" / "webhook" /
                                                          "felanmalan-gatlykta.json"), ROUTE], env)
    found = json.loads(done.stdout.strip().splitlines()[-1])

    assert found["plugins"] == [{"name": "Brygga webhook intake", "url_prefix": "/brygga/webhook"},
                                {"name": "Brygga admin", "url_prefix": "/brygga/admin"},
                                {"name": "Brygga validation API", "url_prefix": "/brygga/validation"}]
    status, problem = found["unsigned"]
    assert status == 401 and "X-Brygga-Timestamp header is missing" in problem["detail"]
    status, accepted = found["first"]
    assert status == 202 and accepted["duplicate"] is False
    assert found["second"][0] == 202 and found["second"][1]["submission_id"] != accepted["submission_id"]
    # One queued run for the first push; the second found it queued (not started, so it takes both).
    assert found["runs"] == [{"run_id": f"brygga_webhook__{accepted['submission_id']}", "state": "queued",
                              "triggered_by": "DagRunTriggeredByType.REST_API",
                              "conf": {"submission_id": accepted["submission_id"]}}]
    assert found["states"] == {"first": "landed", "second": "landed"}


class _Gateway(BaseHTTPRequestHandler):
    """A proxy in front of the intake that answers with its own pages: HTML, or a problem+json from the app."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path.startswith("/routes/html/"):
            status, kind, body = 502, "text/html", b"<html><body>Bad gateway for Anna Svensson</body></html>"
        else:
            problem = {"type": "about:blank", "title": "Unauthorized\x1b[2J" + "x" * 1000, "status": 401,
                       "detail": "the X-Brygga-Signature does not match"}
            status, kind, body = 401, "application/problem+json", json.dumps(problem).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def test_a_refusal_that_is_not_json_is_a_config_error_naming_the_status_only(gateway, tmp_path):
    sample = tmp_path / "report.json"
    sample.write_bytes(b'{"flowInstance": {"id": 1}}')
    with requests.Session() as session, pytest.raises(ConfigError) as refused:
        post_file(session, gateway, "html", SECRET, sample)
    message = str(refused.value)
    assert message.startswith("the webhook intake refused report.json: HTTP 502 Bad Gateway") and "text/html" in message
    assert "Anna" not in message and "<html>" not in message


def test_a_problem_is_reported_by_title_and_detail_cut_short_and_printable(gateway, tmp_path):
    sample = tmp_path / "report.json"
    sample.write_bytes(b'{"flowInstance": {"id": 1}}')
    with requests.Session() as session, pytest.raises(ConfigError) as refused:
        post_file(session, gateway, ROUTE, SECRET, sample)
    message = str(refused.value)
    assert "HTTP 401 Unauthorized[2J" in message and "\x1b" not in message and "x" * 301 not in message
    assert message.endswith(": the X-Brygga-Signature does not match")
