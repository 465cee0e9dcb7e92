"""A real `airflow api-server`, started by a test: a temporary AIRFLOW_HOME (migrated first), SimpleAuthManager with
users of the roles given and their passwords in a file the test writes, Brygga's plugin loaded, a free port.

Airflow reads its settings at import, so the server is a child process with an environment of its own; the test
talks to it over HTTP. Starting it takes a while, so a test module starts it once.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import requests

from brygga.settings import REPO_ROOT

PLUGIN = "brygga_airflow.plugin:BryggaPlugin"
AIRFLOW = Path(sys.executable).with_name("airflow")
START_TIMEOUT_S = 300


@dataclass(frozen=True)
class User:
    name: str
    role: str  # viewer, user, op or admin
    password: str


@dataclass(frozen=True)
class ApiServer:
    url: str  # http://127.0.0.1:PORT
    airflow_home: Path
    log_file: Path
    users: dict[str, User]

    def token(self, user: str) -> str:
        """A JWT for the user, from SimpleAuthManager's token endpoint (what the login page does)."""
        login = self.users[user]
        answer = requests.post(f"{self.url}/auth/token", json={"username": login.name, "password": login.password},
                               timeout=60)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["access_token"])


def plugin_entry_point(folder: Path) -> str | None:
    """A folder for PYTHONPATH declaring the plugin's entry point, when this checkout's installed metadata does not
    (an install older than the pyproject line); Airflow's plugins manager reads either the same way."""
    if any(ep.value == PLUGIN for ep in entry_points(group="airflow.plugins")):
        return None
    dist = folder / "entry-points" / "brygga_airflow_plugin-0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brygga-airflow-plugin\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(f"[airflow.plugins]\nbrygga = {PLUGIN}\n")
    return str(dist.parent)


def airflow_env(workdir: Path, users: list[User], extra: dict[str, str]) -> dict[str, str]:
    """The environment of the test's Airflow: nothing of the shell's AIRFLOW_* or BRYGGA_*, then ``extra``."""
    passwords = workdir / "passwords.json"
    passwords.write_text(json.dumps({u.name: u.password for u in users}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env.update(
        AIRFLOW_HOME=str(workdir / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO_ROOT / "dags"),
        AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=",".join(f"{u.name}:{u.role}" for u in users),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
    )
    shim = plugin_entry_point(workdir)
    if shim:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [shim, env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_file: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"airflow api-server exited with {process.returncode}:\n"
                               f"{log_file.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/api/v2/monitor/health", timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"airflow api-server did not answer in {START_TIMEOUT_S}s:\n"
                       f"{log_file.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """The server and the workers it started: their process group, which is the server's own."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@contextlib.contextmanager
def airflow_api_server(workdir: Path, users: list[User], extra_env: dict[str, str], *,
                       with_dags: bool = False) -> Iterator[ApiServer]:
    """Migrate a fresh Airflow DB, start `airflow api-server` on a free port and yield it once it is healthy.
    ``with_dags``: serialize Brygga's DAGs into the DB first (what the dag processor does), so runs can be queued."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = airflow_env(workdir, users, extra_env)
    for command in (["db", "migrate"], ["dags", "reserialize"])[:2 if with_dags else 1]:
        done = subprocess.run([str(AIRFLOW), *command], capture_output=True, text=True, env=env, timeout=600,
                              check=False)
        assert done.returncode == 0, done.stderr[-3000:]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env["AIRFLOW__API__BASE_URL"] = url
    log_file = workdir / "api-server.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen([str(AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(port),
                                    "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    try:
        _wait_healthy(url, process, log_file)
        yield ApiServer(url=url, airflow_home=Path(env["AIRFLOW_HOME"]), log_file=log_file,
                        users={u.name: u for u in users})
    finally:
        _stop(process)
