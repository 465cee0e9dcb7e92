"""amqps://: the broker's certificate is checked against the CA (ca_bundle, else the system's) and the URL's host,
in a real TLS handshake with a local listener; plain amqp:// stays plain.

The listener speaks no AMQP: a handshake it completes ends in the broker hanging up, which is BusUnavailable too,
but not for the certificate.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from bus_helpers import MemoryOutbox
from tls_listener import ServerPki, TlsListener, make_server_pki

from brygga.bus import BusUnavailable
from brygga.bus.relay import relay
from brygga.bus.transport import amqp_url, connect, tls_options
from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga_adapters.bus import BusSource

DECISION = "se.brygga.case.decision_made"


@pytest.fixture(scope="module")
def for_localhost(tmp_path_factory: pytest.TempPathFactory) -> ServerPki:
    return make_server_pki(tmp_path_factory.mktemp("localhost"), "localhost")


@pytest.fixture(scope="module")
def for_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> ServerPki:
    return make_server_pki(tmp_path_factory.mktemp("elsewhere"), "rabbit.elsewhere.test")


@pytest.fixture
def listener(request: pytest.FixtureRequest) -> Iterator[TlsListener]:
    with TlsListener(request.getfixturevalue(request.param)) as running:
        yield running


def publish_to(url: str) -> tuple[str, MemoryOutbox]:
    outbox = MemoryOutbox()
    outbox.add(DECISION)
    with pytest.raises(BusUnavailable) as failed:
        relay(outbox, url, [], timeout=3)
    return str(failed.value), outbox


@pytest.mark.parametrize("listener", ["for_elsewhere"], indirect=True)
def test_a_broker_whose_certificate_names_another_host_is_refused(listener: TlsListener,
                                                                  for_elsewhere: ServerPki) -> None:
    # The CA is trusted: only the name is wrong.
    message, outbox = publish_to(f"amqps://guest:guest@localhost:{listener.port}//?ca_bundle={for_elsewhere.ca_file}")

    assert "CERTIFICATE_VERIFY_FAILED" in message and "Hostname mismatch" in message
    assert listener.first().completed is False  # the client broke the handshake off
    assert outbox.published == set()


@pytest.mark.parametrize("listener", ["for_localhost"], indirect=True)
def test_a_broker_with_a_certificate_for_its_host_from_the_given_ca_is_reached_by_name(
        listener: TlsListener, for_localhost: ServerPki) -> None:
    message, _ = publish_to(f"amqps://guest:guest@localhost:{listener.port}//?ca_bundle={for_localhost.ca_file}")

    handshake = listener.first()
    assert handshake.completed is True
    assert handshake.server_name == "localhost"  # SNI: the URL's host, though kombu connects to 127.0.0.1
    assert "Server unexpectedly closed connection" in message  # after the handshake: the listener speaks no AMQP


@pytest.mark.parametrize("listener", ["for_localhost"], indirect=True)
def test_without_a_ca_bundle_the_systems_cas_decide_and_a_private_ca_is_refused(listener: TlsListener) -> None:
    message, _ = publish_to(f"amqps://guest:guest@localhost:{listener.port}//")

    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert listener.first().completed is False


def test_what_py_amqp_is_given_for_amqps_and_for_amqp(for_localhost: ServerPki) -> None:
    ca = str(for_localhost.ca_file)
    tls = connect(f"amqps://brygga:pw@rabbit.kommun.se:5671/brygga?ca_bundle={ca}")
    assert tls.ssl == {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": ca, "server_hostname": "rabbit.kommun.se"}
    assert tls.hostname == "rabbit.kommun.se" and tls.virtual_host == "brygga"  # ca_bundle is not kombu's
    assert connect("amqps://brygga:pw@[::1]/brygga").ssl == {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": None,
                                                            "server_hostname": "::1"}
    assert connect("amqp://brygga:pw@rabbit.kommun.se:5672/brygga").ssl is False
    assert tls_options("amqp://rabbit.kommun.se//") is None


def test_a_ca_bundle_that_cannot_serve_is_refused_before_connecting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"amqps://brygga:\*\*\*@rabbit.kommun.se/brygga.*ca_bundle does not "
                                          r"name a readable file"):
        connect(f"amqps://brygga:pw@rabbit.kommun.se/brygga?ca_bundle={tmp_path / 'missing.pem'}")
    with pytest.raises(ConfigError, match="ca_bundle is for amqps:// \\(TLS\\) only"):
        connect(f"amqp://brygga:pw@rabbit.kommun.se/brygga?ca_bundle={tmp_path / 'missing.pem'}")


def test_a_connections_ca_bundle_reaches_the_bus_url(for_localhost: ServerPki) -> None:
    ca = for_localhost.ca_file
    connection = Connection.from_uri("bus_ydre", f"amqps://ydre:pw@rabbit.cesam.se:5671/brygga?ca_bundle={ca}")
    url = amqp_url(connection)
    assert url == f"amqps://ydre:pw@rabbit.cesam.se:5671/brygga?ca_bundle={ca}"
    assert BusSource({"queue": "q", "bindings": ["#"]}, connection).url == url
    assert connect(url).ssl["ca_certs"] == str(ca)
    with pytest.raises(ConfigError, match="connection 'bus_ydre': extra 'ca_bundle' is for amqps://"):
        amqp_url(Connection.from_uri("bus_ydre", f"amqp://ydre:pw@rabbit.cesam.se/brygga?ca_bundle={ca}"))
