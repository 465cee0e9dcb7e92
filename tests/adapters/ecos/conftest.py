"""Fixtures for the ecos target's tests: the Ecos simulator on a real socket, a connection, requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ecos_delivery_data import payload, stored
from ecos_simulator import running_ecos

from brygga.connections import Connection
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga_simulators import RunningSimulator


@pytest.fixture
def ecos() -> Iterator[RunningSimulator]:
    with running_ecos() as running:
        yield running


@pytest.fixture
def connection(ecos: RunningSimulator) -> Connection:
    return Connection.from_uri("ecos_kumla", f"{ecos.url}?allow_http=true")


@pytest.fixture
def make_request(tmp_path: Path) -> Callable[..., DeliveryRequest]:
    def make(body: dict[str, Any] | None = None, documents: list[StoredDocument] | None = None,
             extern_ref: str = "1881:open-eplatform:5203", **fields: Any) -> DeliveryRequest:
        if documents is None:
            documents = [stored(tmp_path, "Situationsplan borrhål.pdf", b"%PDF-1.4 situationsplan borrhal")]
        return DeliveryRequest(
            submission_id="sub-5203", idempotency_key=f"{extern_ref}:ecos", extern_ref=extern_ref,
            payload=payload() if body is None else body, case={"attachments": [{}]}, documents=documents, **fields,
        )

    return make
