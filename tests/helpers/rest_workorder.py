"""The REST target's test data and builders for the work-order simulator: its target config, a felanmälan payload,
connections and delivery requests (a unique module name, unlike conftest, so any test folder can import it)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from brygga.connections import Connection
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga_simulators import RunningSimulator

TOKEN_PATH = "/workorder/v1/oauth2/token"

WORK_ORDER_CONFIG: dict[str, Any] = {
    "create": {"path": "/orders", "method": "POST"},
    "extern_ref_field": "/externalRef",
    "reference": {"json": "/orderNumber"},
    "search": {"path": "/orders", "query": {"externalRef": "{extern_ref}"}, "items": "/items",
               "reference": "/orderNumber"},
    "attachments": {"mode": "upload", "path": "/orders/{reference}/attachments", "list": "/attachments"},
    "amend": {"path": "/orders/{reference}/notes", "method": "POST"},
}

FELANMALAN: dict[str, Any] = {
    "category": "belysning",
    "title": "Gatlykta ur funktion",
    "description": "Lyktan vid busshållplatsen lyser inte.",
    "location": {"address": "Storgatan 12, Kumla", "latitude": 59.127, "longitude": 15.143},
    "reporter": {"name": "Anna-Karin Ström", "email": "anna-karin.strom@example.se", "personalNumber": "19800512-2380"},
    "priority": "normal",
}


def connection_to(running: RunningSimulator, conn_id: str = "workorder-kumla", *, login: str = "brygga",
                  password: str = "s3cret", **extra: str) -> Connection:
    """A connection to a running server over plain http (allow_http, as for every simulator); oauth2 by default."""
    options = {"allow_http": "true", "auth": "oauth2", "token_url": TOKEN_PATH, "read_timeout": "10", **extra}
    query = "&".join(f"{key}={value}" for key, value in options.items() if value is not None)
    base = running.url.replace("http://", f"http://{login}:{password}@")
    return Connection.from_uri(conn_id, f"{base}?{query}")


def delivery(documents: list[StoredDocument] | None = None, *, submission: str = "sub-0001",
             payload: dict[str, Any] | None = None, **fields: Any) -> DeliveryRequest:
    return DeliveryRequest(
        submission_id=submission,
        idempotency_key=fields.pop("idempotency_key", f"{submission}:workorder-kumla"),
        extern_ref=fields.pop("extern_ref", f"brygga:{submission}"),
        payload=json.loads(json.dumps(FELANMALAN if payload is None else payload)),
        case={},
        documents=documents or [],
        **fields,
    )


def calls_to(running: RunningSimulator, path_end: str, method: str | None = None) -> int:
    """How many requests the simulator got whose path ends with ``path_end`` (and of ``method``)."""
    return sum(1 for entry in running.app.recorded
               if entry.path.endswith(path_end) and (method is None or entry.method == method))


def json_answer(data: Any, status: int = 200, headers: dict[str, str] | None = None,
                content_type: str = "application/json") -> Response:
    response = Response(json.dumps(data), status=status, content_type=content_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
