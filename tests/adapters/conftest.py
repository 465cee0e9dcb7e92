"""Fixtures for adapter tests: simulators on real sockets, connections to them, stored documents."""

from __future__ import annotations

import copy
import hashlib
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from brygga.connections import Connection
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga_adapters.soap import clear_soap_cache
from brygga_simulators import RunningSimulator, start_simulator

CANONICAL_CASE: dict[str, Any] = {
    "schemaVersion": "1.0",
    "caseType": "bygglov",
    "tenant": {"kommunkod": "1881", "name": "Kumla kommun"},
    "source": {
        "system": "open-eplatform",
        "reference": "1001",
        "flowId": "1187",
        "flowName": "Ansökan om bygglov",
    },
    "receivedAt": "2026-10-14T09:12:44+02:00",
    "title": "Ansökan om bygglov",
    "parties": [
        {
            "kind": "person",
            "roles": ["applicant"],
            "personnummer": "198005122380",
            "givenName": "Anna-Karin",
            "familyName": "Ström",
            "address": {"street": "Storgatan 12", "postalCode": "69231", "city": "Kumla"},
            "email": "anna-karin.strom@example.se",
            "phone": "070-123 45 67",
        },
        {
            "kind": "organisation",
            "roles": ["property_owner"],
            "organisationsnummer": "5560360793",
            "name": "AB Exempel",
        },
    ],
    "properties": [
        {
            "fastighetsbeteckning": "KUMLA STENEN 1:23",
            "objectIdentity": "909a6a63-5f3b-90ec-e040-ed8f66444c3f",
            "address": "Stengatan 4",
        }
    ],
    "details": {
        "bygglov": {
            "measure": "nybyggnad",
            "buildingType": "enbostadshus",
            "description": "Nybyggnad av enbostadshus",
            "buildingArea": 142,
            "grossFloorArea": 168,
        }
    },
    "attachments": [],
}


@pytest.fixture(autouse=True)
def _fresh_soap_clients() -> Iterator[None]:
    # Each test starts its simulators on new ports; cached clients of earlier tests must not leak in.
    clear_soap_cache()
    yield
    clear_soap_cache()


@pytest.fixture
def canonical_case() -> dict[str, Any]:
    return copy.deepcopy(CANONICAL_CASE)


@pytest.fixture
def byggr_sim() -> Iterator[RunningSimulator]:
    with start_simulator("byggr") as running:
        yield running


@pytest.fixture
def callback_sim() -> Iterator[RunningSimulator]:
    with start_simulator("oep-callback") as running:
        yield running


def _connection_to(running: RunningSimulator, conn_id: str, **extra: str) -> Connection:
    # The simulators speak plain http, which a connection must allow explicitly (the https rule).
    query = "&".join(f"{key}={value}" for key, value in {"allow_http": "true", **extra}.items())
    base = running.url.replace("http://", "http://brygga:s3cret@")
    return Connection.from_uri(conn_id, f"{base}?{query}")


@pytest.fixture
def byggr_connection(byggr_sim: RunningSimulator) -> Connection:
    return _connection_to(byggr_sim, "byggr-kumla", connect_timeout="2", read_timeout="10")


@pytest.fixture
def callback_connection(callback_sim: RunningSimulator) -> Connection:
    return _connection_to(callback_sim, "oep-kumla")


@pytest.fixture
def connect() -> Callable[..., Connection]:
    """``connect(running, conn_id, **extras)``: a Connection (basic auth, allow_http) to a running simulator."""
    return _connection_to


def _store_document(root: Path, name: str, content: bytes, *, sha256: str | None = None) -> StoredDocument:
    path = root / hashlib.sha256(content).hexdigest()
    path.write_bytes(content)
    return StoredDocument(
        name=name,
        media_type="application/pdf",
        size=len(content),
        sha256=sha256 or hashlib.sha256(content).hexdigest(),
        path=path,
    )


@pytest.fixture
def documents(tmp_path: Path) -> list[StoredDocument]:
    return [
        _store_document(tmp_path, "Situationsplan.pdf", b"%PDF-1.4 situationsplan"),
        _store_document(tmp_path, "Fasadritning.pdf", b"%PDF-1.4 fasadritning"),
    ]


@pytest.fixture
def store_document(tmp_path: Path) -> Callable[..., StoredDocument]:
    """``store_document(name, content, sha256=None)``: write content to the test's content store."""
    return lambda name, content, sha256=None: _store_document(tmp_path, name, content, sha256=sha256)


def _make_request(
    payload: dict[str, Any],
    case: dict[str, Any],
    documents: list[StoredDocument],
    extern_ref: str = "brygga:sub-0001",
) -> DeliveryRequest:
    return DeliveryRequest(
        submission_id="sub-0001",
        idempotency_key="sub-0001:byggr-kumla",
        extern_ref=extern_ref,
        payload=payload,
        case=case,
        documents=documents,
    )


@pytest.fixture
def make_request() -> Callable[..., DeliveryRequest]:
    """``make_request(payload, case, documents, extern_ref=...)``."""
    return _make_request


@pytest.fixture
def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
