"""docker/Dockerfile, checked without a Docker engine: what it copies exists and is not ignored, what it installs is
declared, its Airflow is the one Brygga supports, and the FAB permissions script it ships matches the admin view's
rules."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import shlex
import tomllib
from types import ModuleType

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from brygga.settings import REPO_ROOT
from brygga_airflow.admin_view.access import RULES

DOCKER = REPO_ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# FAB's names for the methods the admin view asks with (airflow.providers.fab.www.utils).
FAB_ACTIONS = {"GET": "can_read", "POST": "can_create"}
# SimpleAuthManager's role floors, as FAB's built-in roles.
FAB_ROLES_AT_LEAST = {"VIEWER": {"Viewer", "User", "Op", "Admin"}, "OP": {"Op", "Admin"}, "ADMIN": {"Admin"}}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def args_of(name: str) -> list[str]:
    return [arguments for instruction, arguments in instructions() if instruction == name]


@pytest.fixture(scope="module")
def fab_permissions() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fab_permissions", DOCKER / "fab_permissions.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports Airflow's FAB provider only when run
    return module


def dockerignore_patterns() -> list[str]:
    return [line.strip() for line in (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def left_out_of_the_build(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` (relative to the context, the repository root) out: it, or a folder above it,
    matches a pattern (``**/`` matching at any depth)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(prefix, pattern) or (pattern.startswith("**/") and fnmatch.fnmatch(
        prefix.rsplit("/", 1)[-1], pattern.removeprefix("**/"))) for prefix in prefixes for pattern in patterns)


def test_every_copied_source_exists_and_is_not_ignored():
    ignored = dockerignore_patterns()
    copies = args_of("COPY")
    assert copies, "the Dockerfile copies nothing"
    for arguments in copies:
        words = [word for word in shlex.split(arguments) if not word.startswith("--")]
        for source in words[:-1]:
            assert (REPO_ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
            assert not any(fnmatch.fnmatch(source, pattern.removeprefix("**/")) for pattern in ignored), \
                f"the Dockerfile copies {source}, which Dockerfile.dockerignore leaves out of the build context"
    for state in (".venv", "var", ".git", "docker/.env", "brygga/__pycache__"):
        assert left_out_of_the_build(state, ignored), f"{state} would be sent to the build"


def test_residents_files_and_secrets_beside_the_compose_file_never_reach_the_builder():
    """The inbox and archive folders hold residents' applications, the config folder the kommun's routes, .env and
    connections.env the passwords: the build context is the repository root, so they would be sent otherwise."""
    ignored = dockerignore_patterns()
    for path in ("docker/.env", "docker/connections.env", "docker/inbox/kumla-bygglov/ansokan.xml",
                 "docker/archive-out/2026/package.zip", "docker/config/routes.yaml", "docker/config/mappings/a.yaml"):
        assert left_out_of_the_build(path, ignored), f"{path} would be sent to the build"
    # Whatever docker/.gitignore keeps out of git (the compose file's local state) stays out of the build too.
    local_state = [line.strip().rstrip("/") for line in (DOCKER / ".gitignore").read_text(encoding="utf-8").splitlines()
                   if line.strip() and not line.startswith("#")]
    assert local_state
    for name in local_state:
        assert left_out_of_the_build(f"docker/{name}/any", ignored), f"docker/{name} would be sent to the build"
    # What the image needs from the folder still goes.
    assert not left_out_of_the_build("docker/fab_permissions.py", ignored)


def test_the_base_image_is_an_airflow_and_a_python_brygga_supports():
    (version,) = [a.split("=", 1)[1] for a in args_of("ARG") if a.startswith("AIRFLOW_VERSION=")]
    (base,) = args_of("FROM")
    assert base == "apache/airflow:${AIRFLOW_VERSION}-python3.11"
    (airflow_pin,) = PYPROJECT["optional-dependencies"]["airflow"]
    assert Version(version) in SpecifierSet(airflow_pin.removeprefix("apache-airflow")), airflow_pin
    assert Version("3.11.0") in SpecifierSet(PYPROJECT["requires-python"])


def test_it_installs_brygga_with_declared_extras_the_fab_provider_and_keeps_airflow():
    (install,) = [a for a in args_of("RUN") if "pip install" in a]
    words = shlex.split(install)
    assert "apache-airflow==${AIRFLOW_VERSION}" in words, "pip may move Airflow off the base image's version"
    extras = [re.fullmatch(r"\.\[(?P<extras>[^\]]+)\]", word) for word in words]
    (brygga,) = [m for m in extras if m]
    declared = PYPROJECT["optional-dependencies"]
    for extra in brygga["extras"].split(","):
        assert extra in declared, f"the Dockerfile installs extra {extra!r}, which pyproject.toml does not declare"
    assert "scale-out" in brygga["extras"], "production runs on PostgreSQL and Celery"
    assert any(word.startswith("apache-airflow-providers-fab") for word in words), "the FAB auth manager is missing"


def test_brygga_home_is_the_one_the_compose_file_shares():
    (home,) = [a.split("=", 1)[1] for a in args_of("ENV") if a.startswith("BRYGGA_HOME=")]
    compose = yaml.safe_load((DOCKER / "docker-compose.yaml").read_text(encoding="utf-8"))
    assert compose["services"]["airflow-worker"]["environment"]["BRYGGA_HOME"] == home
    (made,) = [a for a in args_of("RUN") if a.startswith("install -d")]
    assert home in made.split() and "-o airflow" in made


def test_the_fab_permissions_are_the_admin_views_rules_at_their_role_floors(fab_permissions: ModuleType):
    expected = {(FAB_ACTIONS[rule.method], rule.resource_name): FAB_ROLES_AT_LEAST[rule.simple_role_floor]
                for rule in RULES.values()}
    granted = {permission: set(roles) for permission, roles in fab_permissions.GRANTS.items()}
    assert granted == expected
