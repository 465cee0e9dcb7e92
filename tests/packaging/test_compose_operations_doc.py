"""docs/operations.md against the code it describes: every environment variable the code reads, the DAG ids, the
permissions, alert kinds, metric names and correlation id are named as the code has them, every file it points
to exists, and every `brygga` command it shows is one the CLI has."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from brygga.alerts.alert import KINDS
from brygga.bus.cloudevent import CORRELATION_ATTRIBUTE
from brygga.cli import build_parser
from brygga.provenance import CORRELATION_HEADER
from brygga.settings import REPO_ROOT
from brygga_airflow.admin_view.access import RULES

GUIDE = REPO_ROOT / "docs" / "operations.md"
CODE_FOLDERS = ("brygga", "brygga_airflow", "adapters", "dags")
ENV_NAME = re.compile(r"\b(?:BRYGGA|OTEL)_[A-Z0-9_]*[A-Z0-9]\b")
FAB_ACTIONS = {"GET": "can_read", "POST": "can_create"}


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def code_variables() -> set[str]:
    """Every BRYGGA_* and OTEL_* name in the code; BRYGGA_CONN_<ID> examples count as the one family."""
    names: set[str] = set()
    for folder in CODE_FOLDERS:
        for path in (REPO_ROOT / folder).rglob("*.py"):
            names |= set(ENV_NAME.findall(path.read_text(encoding="utf-8")))
    return {"BRYGGA_CONN_<ID>" if name.startswith("BRYGGA_CONN_") else name for name in names}


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_every_environment_variable_the_code_reads_is_documented(guide: str):
    variables = section(guide, "Environment variables")
    missing = sorted(name for name in code_variables() if f"`{name}`" not in variables)
    assert not missing, f"docs/operations.md does not explain {missing}"


def test_every_file_it_points_to_exists(guide: str):
    paths = re.findall(r"`((?:docs|docker|brygga|brygga_airflow|dags|adapters|schemas|routes)/[\w./-]+)`", guide)
    assert "docker/fab_permissions.py" in paths and "dags/brygga_routes.py" in paths
    for path in paths:
        in_repository = path.removeprefix("brygga/bundled/")  # an installed wheel's copy of a repository folder
        assert (REPO_ROOT / in_repository).exists(), f"docs/operations.md points to {path}, which does not exist"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_brygga_command_it_shows_is_one_the_cli_has(guide: str):
    shown = re.findall(r"`brygga ([a-z][\w-]*)(?: ([a-z][\w-]*))?", guide)
    assert len(shown) > 10
    commands = _subcommands(build_parser())
    for command, action in shown:
        assert command in commands, f"docs/operations.md shows `brygga {command}`, which the CLI does not have"
        actions = _subcommands(commands[command])
        if actions and action:
            assert action in actions, f"`brygga {command} {action}` is not a command"
    assert "`brygga --version`" in guide and "--version" in build_parser().format_help()

def test_the_dag_ids_are_the_ones_brygga_makes(guide: str):
    from brygga_airflow.bus_dag import RELAY_DAG_ID
    from brygga_airflow.dag_factory import dag_id_for
    from brygga_airflow.retention_dag import retention_dag_id_for

    route = SimpleNamespace(id="kumla-bygglov")
    assert f"airflow dags unpause {dag_id_for(route)} " in guide
    assert retention_dag_id_for(route) == "brygga_retention_kumla_bygglov" and "`brygga_retention_<route>`" in guide
    assert f"`{RELAY_DAG_ID}`" in guide and "`brygga_status_<connection>`" in guide
    assert "dags_are_paused_at_creation" in guide


def test_the_permissions_are_the_admin_views(guide: str):
    rows = [line for line in section(guide, "Who may see what: the admin view").splitlines() if line.startswith("|")]
    for rule in RULES.values():
        cell = f"`{rule.resource_name}`, `{FAB_ACTIONS[rule.method]}`"
        (row,) = [row for row in rows if cell in row]
        assert row.rstrip(" |").endswith(rule.simple_role_floor.lower()), row


def test_alerts_metrics_and_the_correlation_id_are_named_as_the_code_names_them(guide: str):
    alerts = section(guide, "Alerts")
    assert {kind for kind in KINDS if f"| `{kind}` |" in alerts} == set(KINDS)
    source = (REPO_ROOT / "brygga" / "observability" / "metrics.py").read_text(encoding="utf-8")
    instruments = set(re.findall(r'create_(?:counter|histogram)\("([\w.]+)"', source))
    documented = set(re.findall(r"^\| `(brygga\.[\w.]+)` \|", section(guide, "Metrics"), flags=re.MULTILINE))
    assert instruments and documented == instruments
    correlation = section(guide, "The correlation id")
    assert f"`{CORRELATION_HEADER}`" in correlation and f"`{CORRELATION_ATTRIBUTE}`" in correlation


def test_the_readme_points_here():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "`docs/operations.md`" in section(readme, "For system administrators")
    assert Path("docs/operations.md") == GUIDE.relative_to(REPO_ROOT)
