"""Each simulated case system refuses a caller without its account, as the real one does, and Brygga reacts the same
way to each: CredentialsRefused, the connection's problem, never the submission's (in a route run:
tests/pipeline/test_route_end_to_end.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from brygga.connections import Connection
from brygga.errors import CredentialsRefused
from brygga_adapters.soap import soap_service
from brygga_simulators.connections import simulate


@pytest.mark.parametrize("adapter", ["byggr", "ecos", "oep-callback"])
def test_a_soap_system_refuses_a_caller_without_its_account(adapter: str, tmp_path: Path) -> None:
    with simulate(adapter, tmp_path) as system:
        without = system.uri.replace(f"brygga:{system.secret}@", "")
        wrong = system.uri.replace(system.secret, "not-it")
        assert requests.get(without.split("?")[0] + "?wsdl", timeout=10).status_code == 401
        for uri in (without, wrong):
            with pytest.raises(CredentialsRefused, match="HTTP 401"):
                soap_service(Connection.from_uri(adapter, uri))
        assert soap_service(Connection.from_uri(adapter, system.uri)) is not None

