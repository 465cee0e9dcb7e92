"""docs/adapters.md's example adapter, as a vendor would take it: its files written out, installed as a package,
listed by `brygga adapters list`, and delivering to the work-order simulator it is written for."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from brygga.adapter_catalog import describe
from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga.mapping import compile_mapping
from brygga.plugins import DeliveryRequest
from brygga.settings import REPO_ROOT
from brygga_simulators.connections import simulate

GUIDE = REPO_ROOT / "docs" / "adapters.md"
FILE_BLOCK = re.compile(r"^```\w+ file=(?P<path>\S+)\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
CASE = REPO_ROOT / "schemas" / "canonical" / "examples" / "felanmalan.json"


@pytest.fixture(scope="module")
def vendor_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vendor")
    for block in FILE_BLOCK.finditer(GUIDE.read_text(encoding="utf-8")):
        path = root / block["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block["body"], encoding="utf-8")
    return root / "ticket-system"


@pytest.fixture
def ticket_target(vendor_package: Path, monkeypatch: pytest.MonkeyPatch) -> type:
    monkeypatch.syspath_prepend(str(vendor_package))
    sys.modules.pop("brygga_ticket", None)
    import brygga_ticket

    return brygga_ticket.TicketTarget


def test_the_installed_example_is_listed_with_what_it_needs(vendor_package: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "--target", str(site), str(vendor_package)],
                   check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(site)}
    listed = subprocess.run([sys.executable, "-m", "brygga.cli", "adapters", "list", "--json"], env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    (ticket,) = [a for a in json.loads(listed.stdout) if a["name"] == "ticket-system"]
    assert ticket["class"] == "brygga_ticket:TicketTarget" and ticket["kinds"] == ["case target"]
    assert [f["name"] for f in ticket["config"]] == ["orders_path"] and ticket["config"][0]["description"]
    assert "login, password" in ticket["connection"]


def test_the_example_delivers_once_and_finds_its_ticket_again(ticket_target: type, tmp_path: Path) -> None:
    info = describe("ticket-system", "brygga_ticket:TicketTarget", ticket_target)
    assert info.kinds == ("case target",)
    case = json.loads(CASE.read_text(encoding="utf-8"))
    payload = compile_mapping(REPO_ROOT / "mappings" / "workorder" / "felanmalan.yaml").run(case)
    with simulate("rest", tmp_path) as system:
        target = ticket_target({}, Connection.from_uri("tickets", system.uri))
        request = DeliveryRequest(submission_id="s-1", idempotency_key="k-1", extern_ref="1881:open-eplatform:77",
                                  payload=payload, case=case)
        first, again = target.deliver(request), target.deliver(request)
        assert first.created and not again.created and first.external_ref == again.external_ref
        assert system.running.app.counts()["orders"] == 1


def test_the_example_refuses_bad_config_and_names_the_field(ticket_target: type) -> None:
    connection = Connection.from_uri("tickets", "https://tickets.example.se")
    with pytest.raises(ConfigError, match=r"config/orders_path: .*\(rule: type"):
        ticket_target({"orders_path": 3}, connection)
    with pytest.raises(ConfigError, match="needs a connection"):
        ticket_target({}, None)
