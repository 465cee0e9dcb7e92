"""deliverSecure's outcomes when something breaks: ``TargetUnavailable`` exactly when the message certainly was not
delivered (retried), ``TargetInDoubt`` when it may have been (never resent on its own: the resident could get the
decision twice). Over real sockets: the simulator's fault plan, and bare listeners that break the TLS handshake."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from mm_data import CONFIG, RESIDENT

from brygga.errors import TargetInDoubt, TargetUnavailable
from brygga_adapters.mina_meddelanden import DigitalMail, MinaMeddelandenMailbox
from brygga_simulators.mina_meddelanden import SimulatorPki


def _mail(reference: str = "ev-1") -> DigitalMail:
    return DigitalMail(recipient=RESIDENT, subject="Beslut", body="Beslut har fattats.", reference=reference)


def _at(port: int) -> SimpleNamespace:
    """Where a connection points: a port on 127.0.0.1 (what ``connect`` reads of a running simulator)."""
    return SimpleNamespace(base_url=f"https://127.0.0.1:{port}")


def _fails_with(mailbox: MinaMeddelandenMailbox, error: type[Exception]) -> str:
    with pytest.raises(error) as failed:
        mailbox.send(_mail())
    assert type(failed.value) is error  # TargetInDoubt is a TargetUnavailable: the exact kind is the point
    return str(failed.value)


class _BareListener:
    """A TCP listener on 127.0.0.1 that breaks the TLS handshake of each client: ``reset`` reads its ClientHello
    and resets the connection; ``stall`` reads it and says nothing until the listener closes."""

    def __init__(self, how: str) -> None:
        self.how = how
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._socket.accept()
            except OSError:
                return
            client.recv(4096)  # the ClientHello: TLS has begun, no byte of the request is sent yet
            if self.how == "reset":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
            else:
                self._held.append(client)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._thread.join(timeout=5)
        for client in self._held:
            client.close()


@pytest.fixture
def bare() -> Iterator[Callable[[str], _BareListener]]:
    made: list[_BareListener] = []

    def start(how: str) -> _BareListener:
        made.append(_BareListener(how))
        return made[-1]

    yield start
    for listener in made:
        listener.close()


# --- certainly not delivered: TargetUnavailable, and sending again is safe ------------------------------------

def test_a_service_that_refuses_the_connection(pki: SimulatorPki, connect) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # released again: nothing listens there
    mailbox = MinaMeddelandenMailbox(dict(CONFIG), connect(_at(port), pki))

    assert "nothing was delivered" in _fails_with(mailbox, TargetUnavailable)


@pytest.mark.parametrize("how", ["reset", "stall"])
def test_a_tls_handshake_reset_or_stalled_before_the_request_was_sent(how: str, bare, pki: SimulatorPki,
                                                                      connect) -> None:
    listener = bare(how)
    mailbox = MinaMeddelandenMailbox(dict(CONFIG), connect(_at(listener.port), pki, connect_timeout="0.5"))

    message = _fails_with(mailbox, TargetUnavailable)

    assert "before the request was sent" in message and "nothing was delivered" in message


def test_a_503_before_the_service_took_it_is_retried_and_delivered_once(mailbox, mailbox_sim) -> None:
    mailbox_sim.app.faults.set([{"operation": "deliverSecure", "action": "http_status", "status": 503, "times": 1}])

    assert "HTTP 503" in _fails_with(mailbox, TargetUnavailable)
    assert mailbox_sim.app.deliveries == []
    assert mailbox.send(_mail()) == mailbox_sim.app.deliveries[0].trans_id
    assert len(mailbox_sim.app.deliveries) == 1


def test_a_server_fault_without_the_contracts_detail_is_retried(mailbox, mailbox_sim) -> None:
    mailbox_sim.app.faults.set([{"operation": "deliverSecure", "action": "soap_fault", "faultcode": "Server",
                                 "faultstring": "Tjänsten är tillfälligt otillgänglig"}])

    assert "SOAP fault Server; rule: a Server fault is retried" in _fails_with(mailbox, TargetUnavailable)


# --- may have been delivered: TargetInDoubt ---------------------------------------------------------------------

def test_an_answer_lost_after_the_delivery_was_carried_out(mailbox, mailbox_sim) -> None:
    mailbox_sim.app.faults.set([{"operation": "deliverSecure", "action": "lose_reply"}])

    assert "the message may have been delivered" in _fails_with(mailbox, TargetInDoubt)
    assert len(mailbox_sim.app.deliveries) == 1  # it was: sending again would deliver it twice


def test_a_connection_dropped_after_the_request_was_sent(mailbox, mailbox_sim) -> None:
    # The simulator reads the whole request and hangs up: it did nothing, but nothing tells the client so.
    mailbox_sim.app.faults.set([{"operation": "deliverSecure", "action": "reset"}])

    assert "no answer came after the request was sent" in _fails_with(mailbox, TargetInDoubt)


def test_no_answer_within_the_read_timeout(pki: SimulatorPki, connect, mailbox_sim) -> None:
    mailbox = MinaMeddelandenMailbox(dict(CONFIG), connect(mailbox_sim, pki, read_timeout="0.5"))
    mailbox_sim.app.faults.set([{"operation": "deliverSecure", "action": "delay", "seconds": 1.5,
                                 "phase": "after"}])

    _fails_with(mailbox, TargetInDoubt)
    assert len(mailbox_sim.app.deliveries) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_bare_server_or_gateway_error_after_sending(status: int, mailbox, mailbox_sim) -> None:
    mailbox_sim.app.faults.set([{"operation": "deliverSecure", "action": "http_status", "status": status}])

    message = _fails_with(mailbox, TargetInDoubt)
    assert f"HTTP {status} without a SOAP answer" in message and "may have been delivered" in message


def test_isreachable_changes_nothing_so_a_lost_answer_is_only_retried(mailbox, mailbox_sim) -> None:
    mailbox_sim.app.faults.set([{"operation": "isReachable", "action": "http_status", "status": 504},
                                {"operation": "isReachable", "action": "reset"}])
    for _ in range(2):
        with pytest.raises(TargetUnavailable) as failed:
            mailbox.reachable(RESIDENT)
        assert type(failed.value) is TargetUnavailable
