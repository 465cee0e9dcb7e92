"""No Docker engine runs here, so check what can be checked: every path the image copies exists, the
extras it installs exist, and every service in the compose file is complete."""

from __future__ import annotations

import re
import tomllib

import yaml

from brygga.settings import REPO_ROOT

DOCKER = REPO_ROOT / "docker"


def test_every_copied_path_exists_and_extras_are_declared():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    sources = [line.split()[-2] for line in dockerfile.splitlines() if line.startswith("COPY")]
    assert sources, "the Dockerfile copies nothing"
    for source in sources:
        for part in source.split():
            assert (REPO_ROOT / part).exists(), f"Dockerfile copies {part}, which does not exist"
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in re.findall(r'-e "\.\[([^\]]+)\]"', dockerfile):
        for name in extra.split(","):
            assert name in extras, f"Dockerfile installs extra {name!r}, which pyproject.toml does not declare"


def test_compose_services_have_commands_and_mounted_files_exist():
    compose = yaml.safe_load((DOCKER / "docker-compose.yaml").read_text())
    services = compose["services"]
    for name in ("airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-apiserver",
                 "airflow-triggerer", "postgres", "redis"):
        assert name in services, f"compose lacks {name}"
    for name, service in services.items():
        assert "image" in service, f"service {name} has no image"
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            if host.startswith("./"):
                assert (DOCKER / host).exists(), f"service {name} mounts missing {host}"
    worker_env = services["airflow-worker"]["environment"]
    assert worker_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert all("password" not in str(v).lower() or "${" in str(v) for v in worker_env.values()), \
        "a secret is written into the compose file instead of coming from the environment"
