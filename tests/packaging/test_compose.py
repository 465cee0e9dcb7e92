"""docker/docker-compose.yaml, checked as far as a machine without a Docker engine can: the file is read as data
and its service definitions asserted as configuration (init first, health checks and restart policies, one home
and one ledger for every Brygga process, the `brygga` tool, the FAB auth manager, no secret in the file, every
variable named in env.example), and `docker compose config` validates it where a Compose v2 CLI is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from brygga.settings import REPO_ROOT

DOCKER = REPO_ROOT / "docker"
COMPOSE_FILE = DOCKER / "docker-compose.yaml"
ENV_EXAMPLE = DOCKER / "env.example"
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
BRYGGA_HOME = "/var/lib/brygga"

DATA_SERVICES = ("postgres", "redis")
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")
LONG_RUNNING = DATA_SERVICES + AIRFLOW_SERVICES
# Everything that runs Brygga code, and so must see the same state and ledger.
BRYGGA_PROCESSES = (*AIRFLOW_SERVICES, "airflow-init", "brygga")
# Variables whose value is a secret: compose must refuse to start without them, and env.example leaves them empty.
REQUIRED_SECRETS = ("POSTGRES_PASSWORD", "BRYGGA_DB_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
                    "AIRFLOW_API_SECRET_KEY", "_AIRFLOW_WWW_USER_PASSWORD")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$")
# ${VAR}, ${VAR:-default}, ${VAR:?message}, $VAR; "$$" is compose's escape for a "$" the container's shell sees.
INTERPOLATION = re.compile(r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_]\w*)(?P<rest>[^}]*)\}|(?P<bare>[A-Za-z_]\w*))")
WHOLE_REFERENCE = re.compile(r"\$\{[A-Za-z_]\w*(:?[-?][^}]*)?\}")
URL_PASSWORD = re.compile(r"://[^:/@\s]*:(?P<password>[^@\s]+)@")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def referenced_variables(text: str) -> set[str]:
    return {m["braced"] or m["bare"] for m in INTERPOLATION.finditer(text)}


def scalars(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string in the document, keys' values included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from scalars(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from scalars(value, f"{path}/{index}")
    elif isinstance(node, str):
        yield path, node


def mount_target(volume: str) -> str:
    """Where a short-syntax volume (``source:target[:ro]``, the source possibly ``${VAR:-default}``) is mounted."""
    parts = volume.split(":")
    return parts[-2] if parts[-1] in ("ro", "rw") else parts[-1]


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def test_every_service_is_there_and_long_running_ones_restart_and_report_health(services):
    assert set(services) == {*LONG_RUNNING, "airflow-init", "brygga"}
    for name in LONG_RUNNING:
        service = services[name]
        assert service.get("restart") == "always", f"{name} is not restarted when it stops"
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        assert "profiles" not in service, f"{name} would not start with a plain `docker compose up`"
    assert services["airflow-init"]["restart"] == "no" and services["brygga"]["restart"] == "no"


@pytest.mark.parametrize(("name", "probe"), [
    ("postgres", "pg_isready --host 127.0.0.1"),  # over TCP: ready only after the init scripts made the ledger
    ("redis", "redis-cli ping"),
    ("airflow-apiserver", "http://localhost:8080/api/v2/monitor/health"),
    ("airflow-scheduler", "http://localhost:8974/health"),
    ("airflow-dag-processor", "airflow jobs check --job-type DagProcessorJob"),
    ("airflow-triggerer", "airflow jobs check --job-type TriggererJob"),
    ("airflow-worker", "inspect ping"),
])
def test_each_health_check_asks_the_service_itself(services, name, probe):
    healthcheck = services[name]["healthcheck"]
    assert probe in " ".join(healthcheck["test"][1:])
    assert {"interval", "retries"} <= set(healthcheck)
    if name == "airflow-scheduler":  # its health port is off unless asked for
        assert services[name]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_init_runs_first_and_everything_waits_for_it(services):
    init = services["airflow-init"]
    assert depends_on(init) == {"postgres": "service_healthy", "redis": "service_healthy"}
    for name in AIRFLOW_SERVICES:
        conditions = depends_on(services[name])
        assert conditions.get("airflow-init") == "service_completed_successfully", f"{name} does not wait for init"
        assert conditions.get("postgres") == "service_healthy", f"{name} does not wait for the database"
    # Workers talk to the API server's execution API from their first task on.
    assert depends_on(services["airflow-worker"])["airflow-apiserver"] == "service_healthy"
    assert depends_on(services["brygga"]) == {"postgres": "service_healthy"}


def test_init_migrates_creates_the_admin_the_ledger_and_the_home_in_that_order(services):
    init = services["airflow-init"]
    assert init["user"] == "0:0", "init must run as root to chown the volumes"
    assert init["entrypoint"][0] == "/bin/bash" and "errexit" in init["entrypoint"]
    script = init["command"][0]
    steps = ["until airflow db check", "airflow db migrate", "airflow users create --role Admin",
             "fab_permissions.py", "Ledger(Settings.from_env().database_url)", "brygga lint",
             'mkdir -p "$${BRYGGA_HOME}/inbox"', "-exec chown ${AIRFLOW_UID:-50000}:0"]
    positions = [script.find(step) for step in steps]
    assert -1 not in positions, f"init lacks {steps[positions.index(-1)]!r}"
    assert positions == sorted(positions), "init does its steps out of order"
    # The admin's name and password are read by the container's shell ($$), so compose never writes them into
    # the command line; compose refuses to start without a password.
    assert '--username "$${_AIRFLOW_WWW_USER_USERNAME}"' in script
    assert '--password "$${_AIRFLOW_WWW_USER_PASSWORD}"' in script
    assert init["environment"]["_AIRFLOW_WWW_USER_PASSWORD"].startswith("${_AIRFLOW_WWW_USER_PASSWORD:?")


def test_every_brygga_process_shares_one_home_one_ledger_and_the_inbox(services):
    environments = {name: services[name]["environment"] for name in BRYGGA_PROCESSES}
    for name, environment in environments.items():
        assert environment["BRYGGA_HOME"] == BRYGGA_HOME, name
        assert environment["BRYGGA_CONFIG"] == "${BRYGGA_CONFIG:-}", name
    urls = {environment["BRYGGA_DATABASE_URL"] for environment in environments.values()}
    assert len(urls) == 1, f"the Brygga processes use different ledgers: {urls}"
    assert urls.pop().startswith("postgresql+psycopg2://brygga:${BRYGGA_DB_PASSWORD:?")
    for name in BRYGGA_PROCESSES:
        mounts = {mount_target(volume): volume for volume in services[name]["volumes"]}
        assert mounts.get(BRYGGA_HOME) == f"brygga-data:{BRYGGA_HOME}", f"{name} has another BRYGGA_HOME"
        # The way in: a host folder mounted as the inbox, where file-inbox routes read (inbox/<route>).
        assert mounts.get(f"{BRYGGA_HOME}/inbox", "").startswith("${BRYGGA_INBOX_ON_HOST:-"), name
        assert mounts.get(f"{BRYGGA_HOME}/archive-out", "").startswith("${BRYGGA_ARCHIVE_ON_HOST:-"), name
        assert mounts.get("/etc/brygga", "").endswith(":/etc/brygga:ro"), name


def test_the_bundled_routes_read_and_write_inside_the_mounted_folders():
    routes = yaml.safe_load((REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8"))["routes"]
    inboxes = [r["source"]["config"]["path"] for r in routes if r["source"]["adapter"] == "file-inbox"]
    archives = [r["archive"]["config"]["path"] for r in routes if r.get("archive", {}).get("adapter") ==
                "archive-folder"]
    assert inboxes and archives
    assert all(path.startswith("inbox/") for path in inboxes), inboxes
    assert all(path.split("/")[0] == "archive-out" for path in archives), archives


def test_the_brygga_tool_runs_the_brygga_command_not_airflows_entrypoint(services):
    tool = services["brygga"]
    assert tool["entrypoint"] == ["brygga"]
    assert tool["profiles"] == ["tools"], "the tool must not start with `docker compose up`"
    assert tool["user"] == services["airflow-worker"]["user"] == "${AIRFLOW_UID:-50000}:0"
    assert tool["image"] == services["airflow-worker"]["image"]
    assert tool.get("init") is True  # signals reach brygga even as PID 1
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["brygga"] == "brygga.cli:main", "the image's `brygga` is the project's console script"


def test_every_airflow_process_and_the_tool_know_the_address_users_open(services):
    """``[api] base_url`` is the site Brygga's view takes a replay, discard, reveal or search from (behind a TLS proxy
    that rewrites Host, the request's Host is not it); by default the published port on localhost."""
    (published,) = services["airflow-apiserver"]["ports"]
    port = re.fullmatch(r"127\.0\.0\.1:\$\{AIRFLOW_API_PORT:-(?P<port>\d+)\}:8080", published)
    assert port, published
    for name in BRYGGA_PROCESSES:
        assert services[name]["environment"].get("AIRFLOW__API__BASE_URL") == \
            f"${{AIRFLOW_API_BASE_URL:-http://localhost:{port['port']}}}", f"{name} lacks [api] base_url"


def test_airflow_uses_the_fab_auth_manager_everywhere(services):
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        environment = services[name]["environment"]
        assert environment["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER, name
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        # Airflow's default, stated: docs/operations.md tells how to unpause a new route's DAG.
        assert environment["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "true", name


def test_no_secret_is_written_in_the_compose_file(compose, services):
    for path, text in scalars(compose):
        for match in URL_PASSWORD.finditer(text):
            assert match["password"].startswith("${"), f"{path}: a password written into a URL"
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert WHOLE_REFERENCE.fullmatch(str(value)), f"{name}: {key} is not taken from the environment"
        # A secret interpolated into a command would be written into the container's command line.
        for field in ("command", "entrypoint", "healthcheck"):
            text = json.dumps(service.get(field, ""))
            assert not referenced_variables(text) & set(REQUIRED_SECRETS), f"{name}: {field} carries a secret"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for secret in REQUIRED_SECRETS:
        assert f"${{{secret}:?" in text, f"compose starts without {secret}"


def test_env_example_names_every_variable_and_leaves_the_secrets_empty(compose):
    used = referenced_variables(COMPOSE_FILE.read_text(encoding="utf-8"))
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*([A-Za-z_]\w*)=", example, flags=re.MULTILINE))
    assert used - named == set(), "docker-compose.yaml uses variables env.example does not name"
    assert named - used == set(), "env.example names variables docker-compose.yaml does not use"
    values = dict(re.findall(r"^([A-Za-z_]\w*)=(.*)$", example, flags=re.MULTILINE))
    for secret in REQUIRED_SECRETS:
        assert values.get(secret) == "", f"env.example gives {secret} a value someone could keep"


def test_volumes_are_declared_and_host_paths_exist_or_are_ignored(compose, services):
    declared = set(compose["volumes"])
    named_used: set[str] = set()
    ignored = (DOCKER / ".gitignore").read_text(encoding="utf-8").split()
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if not volume.startswith("${") else volume[:volume.index("}") + 1]
            if re.fullmatch(r"[a-z][\w-]*", source):
                assert source in declared, f"{name} mounts undeclared volume {source}"
                named_used.add(source)
            elif source.startswith("./"):
                assert (DOCKER / source).exists(), f"{name} mounts {source}, which does not exist"
            else:
                default = re.fullmatch(r"\$\{\w+:-(?P<default>\./[\w-]+)\}", source)
                assert default, f"{name}: {source} is neither a volume, a file here, nor a folder with a default"
                assert f"{default['default'][2:]}/" in ignored, f"{default['default']} is not in docker/.gitignore"
        for env_file in service.get("env_file", []):
            assert (DOCKER / f"{env_file}.example").is_file(), f"{env_file} has no example"
            assert env_file in ignored, f"{env_file} holds secrets and is not in docker/.gitignore"
    assert named_used == declared, f"declared but unused volumes: {declared - named_used}"
    assert ".env" in ignored


def _compose_cli() -> list[str] | None:
    """A Compose v2 command line: the docker CLI's plugin, or a standalone docker-compose v2."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        try:
            done = subprocess.run([*command, "version", "--short"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.strip().lstrip("v").startswith("2."):
            return command
    return None


def test_docker_compose_config_accepts_the_file_and_refuses_missing_secrets(tmp_path: Path):
    command = _compose_cli()
    if command is None:
        pytest.skip("no Docker Compose v2 CLI here (neither `docker compose` nor docker-compose v2)")
    folder = tmp_path / "docker"
    shutil.copytree(DOCKER, folder, ignore=shutil.ignore_patterns(".env", "connections.env", "inbox", "archive-out",
                                                                  "config"))
    shutil.copy(folder / "connections.env.example", folder / "connections.env")
    env = {"PATH": str(Path(shutil.which(command[0]) or "").parent) + ":/usr/bin:/bin", "HOME": str(tmp_path)}

    def config(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, "--file", str(folder / "docker-compose.yaml"), "--profile", "tools",
                               "config", *args], capture_output=True, text=True, env=env, timeout=120, cwd=folder)

    shutil.copy(folder / "env.example", folder / ".env")
    refused = config("--quiet")
    assert refused.returncode != 0 and "in docker/.env" in refused.stderr, refused.stderr

    filled = re.sub(r"^(\w+)=$", lambda m: f"{m[1]}=test-{m[1].lower().strip('_')}",
                    (folder / "env.example").read_text(encoding="utf-8"), flags=re.MULTILINE)
    (folder / ".env").write_text(filled, encoding="utf-8")
    done = config("--format", "json")
    assert done.returncode == 0, done.stderr
    resolved = json.loads(done.stdout)["services"]
    assert resolved["brygga"]["entrypoint"] == ["brygga"]
    assert resolved["airflow-worker"]["environment"]["BRYGGA_DATABASE_URL"] == \
        "postgresql+psycopg2://brygga:test-brygga_db_password@postgres/brygga"
    assert "${" not in json.dumps(resolved["airflow-apiserver"]["environment"])
    assert {resolved[name]["environment"]["AIRFLOW__API__BASE_URL"] for name in BRYGGA_PROCESSES} == \
        {"http://localhost:8080"}
