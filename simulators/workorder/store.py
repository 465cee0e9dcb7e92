"""What the work-order system holds, in memory and thread-safe: API clients and their tokens, orders, the changes
feed and the Idempotency-Key memory.

Orders belong to the client that created them: two kommuner on one system see only their own. Order numbers are
global (``AO-<year>-<sequence>``), as in a shared system. Nothing here touches HTTP; ``api`` does.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from brygga_simulators.workorder.models import STATUSES

Clock = Callable[[], datetime]
STAMP_STEP = timedelta(microseconds=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StoreError(Exception):
    """A refusal the API turns into a problem answer: ``status`` and a message without request values."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@dataclass
class StoredOrder:
    client: str
    fields: dict[str, Any]  # the order's JSON, without attachments and notes
    attachments: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**copy.deepcopy(self.fields), "attachments": copy.deepcopy(self.attachments),
                "notes": copy.deepcopy(self.notes)}


@dataclass(frozen=True)
class Remembered:
    """The first answer given under an Idempotency-Key, and what it was an answer to."""

    fingerprint: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def fingerprint(*parts: Any) -> str:
    """A digest of what a request asked for; the same key with another fingerprint is a conflict."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def parse_clients(clients: str | dict[str, str]) -> dict[str, str]:
    if isinstance(clients, dict):
        return dict(clients)
    parsed: dict[str, str] = {}
    for pair in clients.split(","):
        client_id, sep, secret = pair.strip().partition(":")
        if not sep or not client_id or not secret:
            raise ValueError("clients must be comma-separated 'client_id:secret' pairs")
        parsed[client_id] = secret
    return parsed


class WorkOrderStore:
    def __init__(self, clients: dict[str, str], token_ttl: int, clock: Clock = utc_now,
                 flaws: frozenset[str] = frozenset()) -> None:
        if token_ttl < 1:
            raise ValueError("token_ttl is a number of seconds, 1 or more")
        self.clients = clients
        self.flaws = flaws  # brygga_simulators.workorder.flaws: the bugs of a non-conforming variant
        self.token_ttl = token_ttl
        self.clock = clock
        self.lock = threading.RLock()
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._orders: dict[str, StoredOrder] = {}  # by orderNumber, in creation order
        # orderNumbers by client, and by (client, externalRef), in creation order: a search costs its matches.
        self._by_client: dict[str, list[str]] = {}
        self._by_ref: dict[tuple[str, str | None], list[str]] = {}
        # {"id", "client", "orderNumber", "externalRef", "status", "changedAt", "at"}
        self._changes: list[dict[str, Any]] = []
        self._remembered: dict[tuple[str, str], Remembered] = {}
        self._sequence = 0
        self._last_stamp: datetime | None = None

    # --- OAuth2 client credentials -----------------------------------------------------------------

    def client_authenticates(self, client_id: str, secret: str) -> bool:
        expected = self.clients.get(client_id)
        # compare_digest even for an unknown client, so timing tells little about which client ids exist
        matches = hmac.compare_digest(secret.encode(), (expected or "").encode())
        return expected is not None and matches

    def issue_token(self, client_id: str) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self._tokens[token] = (client_id, self.clock() + timedelta(seconds=self.token_ttl))
        return token

    def client_of(self, token: str) -> str | None:
        """The client a live token was issued to; None for an unknown or expired token."""
        with self.lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None
            client_id, expires_at = entry
            if self.clock() >= expires_at:
                del self._tokens[token]
                return None
            return client_id

    # --- Idempotency-Key -------------------------------------------------------------------------

    def once(self, client: str, key: str | None, asked: str,
             produce: Callable[[], tuple[int, dict[str, Any], dict[str, str]]]) -> tuple[Remembered, bool]:
        """Run ``produce`` once per (client, key): a repeat with the same ``asked`` fingerprint gets the first
        answer back (and True: replayed), another fingerprint a 422. Without a key, ``produce`` just runs.
        Only successful answers are remembered: a refusal may be retried after the cause is fixed."""
        if "ignores-idempotency-key" in self.flaws:
            key = None
        with self.lock:
            if key is not None:
                earlier = self._remembered.get((client, key))
                if earlier is not None:
                    if earlier.fingerprint != asked:
                        raise StoreError(422, "Idempotency-Key reused",
                                         "this Idempotency-Key was used for a different request")
                    return earlier, True
            status, body, headers = produce()
            answer = Remembered(asked, status, body, headers)
            if key is not None and 200 <= status < 300:
                self._remembered[(client, key)] = answer
            return answer, False

    # --- orders ----------------------------------------------------------------------------------

    def create(self, client: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            # body.get: a variant that accepts invalid bodies may have none.
            unique = "ignores-idempotency-key" not in self.flaws
            if unique and self._with_ref(client, body.get("externalRef")):
                raise StoreError(409, "Conflict", "an order with this externalRef already exists")
            now = self._stamp()
            self._sequence += 1
            number = f"AO-{now.year}-{self._sequence:05d}"
            fields = {"id": str(uuid.uuid4()), "orderNumber": number, "status": "registered", **body,
                      "createdAt": iso(now), "updatedAt": iso(now)}
            self._orders[number] = StoredOrder(client, fields)
            self._by_client.setdefault(client, []).append(number)
            if _indexable(body.get("externalRef")):
                self._by_ref.setdefault((client, body.get("externalRef")), []).append(number)
            self._changed(client, number, body.get("externalRef"), "registered", now)
            return self._orders[number].to_json()

    def get(self, client: str, order_number: str) -> dict[str, Any]:
        with self.lock:
            return self._own(client, order_number).to_json()

    def search(self, client: str, external_ref: str | None) -> list[dict[str, Any]]:
        with self.lock:
            if external_ref is None:
                return [self._orders[number].to_json() for number in self._by_client.get(client, [])]
            return [o.to_json() for o in self._with_ref(client, external_ref)]

    def add_attachment(self, client: str, order_number: str, name: str, media_type: str, size: int,
                       sha256: str) -> dict[str, Any]:
        with self.lock:
            order = self._own(client, order_number)
            attachment = {"id": str(uuid.uuid4()), "name": name, "mediaType": media_type, "size": size,
                          "sha256": sha256}
            order.attachments.append(attachment)
            order.fields["updatedAt"] = iso(self._stamp())
            return dict(attachment)

    def add_note(self, client: str, order_number: str, text: str) -> dict[str, Any]:
        with self.lock:
            order = self._own(client, order_number)
            now = self._stamp()
            note = {"id": str(uuid.uuid4()), "text": text, "createdAt": iso(now)}
            order.notes.append(note)
            order.fields["updatedAt"] = iso(now)
            return dict(note)

    def exists(self, client: str, order_number: str) -> bool:
        with self.lock:
            order = self._orders.get(order_number)
            return order is not None and order.client == client

    def set_status(self, order_number: str, status: str) -> dict[str, Any]:
        if status not in STATUSES:
            raise StoreError(422, "Unprocessable Content", f"status must be one of: {', '.join(STATUSES)}")
        with self.lock:
            order = self._orders.get(order_number)
            if order is None:
                raise StoreError(404, "Not Found", "no such order")
            now = self._stamp()
            order.fields["status"] = status
            order.fields["updatedAt"] = iso(now)
            self._changed(order.client, order_number, order.fields.get("externalRef"), status, now)
            return order.to_json()

    def changes(self, client: str, since: datetime | None) -> tuple[list[dict[str, Any]], str]:
        """The client's status changes after ``since`` (all without it), oldest first, and the moment they run to."""
        with self.lock:
            until = self._stamp()
            found = [{k: v for k, v in change.items() if k not in ("client", "at")} for change in self._changes
                     if change["client"] == client and (since is None or change["at"] > since)]
            return found, iso(until)

    # --- for the simulator's inspection ------------------------------------------------------------

    def all_orders(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(o.client, o.to_json()) for o in self._orders.values()]

    def all_changes(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{k: v for k, v in change.items() if k not in ("id", "at")} for change in self._changes]

    def clear(self) -> None:
        with self.lock:
            self._tokens.clear()
            self._orders.clear()
            self._by_client.clear()
            self._by_ref.clear()
            self._changes.clear()
            self._remembered.clear()
            self._sequence = 0

    # --- internals -------------------------------------------------------------------------------

    def _with_ref(self, client: str, external_ref: Any) -> list[StoredOrder]:
        """The client's orders whose externalRef equals ``external_ref``, oldest first (the caller holds the lock).
        A value that is no string (a variant that takes invalid bodies) is compared with every order's, as stored."""
        if _indexable(external_ref):
            return [self._orders[number] for number in self._by_ref.get((client, external_ref), [])]
        return [self._orders[number] for number in self._by_client.get(client, [])
                if self._orders[number].fields.get("externalRef") == external_ref]

    def _own(self, client: str, order_number: str) -> StoredOrder:
        order = self._orders.get(order_number)
        if order is None or order.client != client:  # another client's order is as unknown as a missing one
            raise StoreError(404, "Not Found", "no such order")
        return order

    def _stamp(self) -> datetime:
        """Now, but always after the last stamp handed out, so ``since=<until>`` never misses nor repeats."""
        now = self.clock().astimezone(UTC)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + STAMP_STEP
        self._last_stamp = now
        return now

    def _changed(self, client: str, number: str, external_ref: str | None, status: str, at: datetime) -> None:
        # The change's own id, given once: a feed reader records each change by it, however often it reads it.
        self._changes.append({"id": str(uuid.uuid4()), "client": client, "orderNumber": number,
                              "externalRef": external_ref, "status": status, "changedAt": iso(at), "at": at})


def _indexable(external_ref: Any) -> bool:
    """An externalRef the index keys on: a string, or none at all (a body without one)."""
    return external_ref is None or isinstance(external_ref, str)
