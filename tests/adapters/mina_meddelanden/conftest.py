"""The Mina meddelanden simulator over real https with mutual TLS, a fresh test PKI per module, and connections to it.

The adapter is constructed directly (``MinaMeddelandenMailbox(config, connection)``), not through its entry point.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mm_data import BLOCKED, CONFIG, NO_MAILBOX, PENDING

from brygga.connections import Connection
from brygga_adapters.mina_meddelanden import MinaMeddelandenMailbox
from brygga_simulators import RunningSimulator
from brygga_simulators.mina_meddelanden import SimulatorPki, make_test_pki, start_secure


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimulatorPki:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> SimulatorPki:
    """A second CA with its own organisation certificate: one the simulator does not trust."""
    return make_test_pki(tmp_path_factory.mktemp("other-pki"), organisation="Främmande organisation")


@pytest.fixture
def mailbox_sim(pki: SimulatorPki, tmp_path: Path) -> Iterator[RunningSimulator]:
    running, _ = start_secure(tmp_path, pki=pki, unreachable={NO_MAILBOX}, pending={PENDING}, blocked={BLOCKED})
    with running:
        yield running


@pytest.fixture
def mailbox_sim_tls12(pki: SimulatorPki, tmp_path: Path) -> Iterator[RunningSimulator]:
    # TLS 1.2: a refused client certificate is an alert in the handshake, never a bare reset (server_context).
    running, _ = start_secure(tmp_path, pki=pki, maximum_tls=ssl.TLSVersion.TLSv1_2)
    with running:
        yield running


def _connection(running: RunningSimulator, pki: SimulatorPki, **extra: str) -> Connection:
    extras = {"cert_file": str(pki.client_cert), "key_file": str(pki.client_key), "ca_bundle": str(pki.ca_file),
              "read_timeout": "10", **extra}
    query = "&".join(f"{key}={value}" for key, value in extras.items() if value)
    return Connection.from_uri("mina_meddelanden_kumla", f"{running.base_url}?{query}")


@pytest.fixture
def connect() -> Callable[..., Connection]:
    """``connect(running, pki, **extras)``; an extra set to "" is left out."""
    return _connection


@pytest.fixture
def mailbox(mailbox_sim: RunningSimulator, pki: SimulatorPki) -> MinaMeddelandenMailbox:
    return MinaMeddelandenMailbox(dict(CONFIG), _connection(mailbox_sim, pki))
