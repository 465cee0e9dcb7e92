"""A JSON case or work-order API as a case target: one submission becomes one case, its documents attached.

Delivery is at-least-once, so every step is safe to repeat:

- **check before create**: with ``search`` configured, a case already carrying the submission's extern ref is
  taken (``created=False``) rather than created again; the create also sends ``Idempotency-Key``, so a target that
  honours it replays its first answer, and a conflict on create (``create.conflict``, default 409) is answered by
  searching: a case not found yet (created asynchronously) is ``TargetInDoubt``, searched for again later;
- a create whose answer was lost or cannot be read is ``TargetInDoubt``: the next attempt searches first (without
  ``search`` it relies on the Idempotency-Key). An amend, and an upload to a case when ``attachments.list`` is not
  configured, never search: their retry relies on the Idempotency-Key alone;
- **documents** (``attachments.mode: upload``) go one POST each, with ``Idempotency-Key: <key>:<sha256>`` and
  ``Repr-Digest``; for a case that was already there, ``attachments.list`` shows which it has, and only the
  others are sent;
- an **amendment** goes to ``amend`` on the existing case, and its new documents to that case.
"""

from __future__ import annotations

import copy
import logging
from datetime import datetime
from functools import partial
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetInDoubt, TargetRejected
from brygga.plugins import Amendment, DeliveryReceipt, DeliveryRequest, StoredDocument, configure
from brygga.status.changes import ChangeBatch, DocumentRef, FetchedDocument
from brygga_adapters.http import endpoint_url, timeouts
from brygga_adapters.http.fields import http_connection_fields
from brygga_adapters.rest import pointers
from brygga_adapters.rest.calls import Answer, RestCalls
from brygga_adapters.rest.config import CONFIG_SPEC, DEFAULT_CONFLICT, EXTERN_REF, REFERENCE, check_config
from brygga_adapters.rest.documents import VerifiedDocument, embed, upload_headers, verify_all
from brygga_adapters.rest.sessions import session_for
from brygga_adapters.rest.status_feed import RestStatusFeed

log = logging.getLogger("brygga.adapters.rest")

MAX_REFERENCE_LENGTH = 200
IN_DOUBT_RULE = "in doubt: the create was accepted; the next attempt checks before it creates"


class RestTarget:
    """``CaseTarget`` for a JSON API. Endpoint and credentials come from the connection, shapes from the config."""

    config_spec: ClassVar[dict[str, Any]] = CONFIG_SPEC
    connection_fields: ClassVar[dict[str, str]] = http_connection_fields(
        system="case or work-order API", path="/workorder/v1", account="the API user or OAuth2 client id")

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("rest target needs a connection (the API's base URL and credentials)")
        self.config = configure("rest", CONFIG_SPEC, config)
        check_config(self.config)
        self.connection = connection
        self.base = endpoint_url(connection)
        self.where = f"rest {connection.conn_id}"
        self.attachments: dict[str, Any] = self.config["attachments"]
        self.mode: str = self.attachments.get("mode", "none")
        self.idempotency_header: str = self.config["idempotency_header"]
        # Built (and the auth extras checked) here, so a wrong connection fails before the first delivery.
        self.calls = RestCalls(session_for(connection), timeouts(connection), self.where)
        self.feed = RestStatusFeed(self.config.get("changes"), self.calls, self.base, self.config["path_values"],
                                   self.where)

    @classmethod
    def preflight(cls, config: dict[str, Any], case: dict[str, Any], payload: dict[str, Any] | None) -> list[str]:
        """What the adapter would refuse in this payload, without calling the target."""
        if not isinstance(payload, dict):
            return ["rest: the outbound mapping's output must be a JSON object (rule: payload)"]
        attachments = config.get("attachments") or {}
        if attachments.get("mode") != "embedded":
            return []
        items = pointers.get(payload, attachments.get("items", ""))
        if items is pointers.MISSING or items is None:
            return []
        if not isinstance(items, list):
            return [f"rest: attachments/items {attachments.get('items')!r} is not an array (rule: embedded)"]
        field = attachments.get("content_field", "")
        return [
            f"rest: attachment item {index} field {field!r} must hold a document's sha256 (rule: embedded)"
            for index, item in enumerate(items)
            if not (isinstance(item, dict) and isinstance(item.get(field), str) and len(item[field]) == 64)
        ]

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        # Everything that can be refused locally is checked before the first remote call.
        documents = verify_all(request.documents)
        if request.amendment is not None:
            return self.amend(request, request.amendment, documents)
        body = self.body(request, documents, extern_ref=True)
        reference = self.search(request.extern_ref)
        created = reference is None
        if reference is None:
            reference, created = self.create(request, body)
        uploaded = self.upload(request, reference, documents, check_existing=not created)
        log.info(
            "rest delivery: submission=%s reference=%s created=%s documents=%d uploaded=%d",
            request.submission_id, reference, created, len(documents), uploaded,
        )
        return DeliveryReceipt(external_ref=reference, created=created)

    def amend(
        self, request: DeliveryRequest, amendment: Amendment, documents: list[VerifiedDocument]
    ) -> DeliveryReceipt:
        amend = self.config.get("amend")
        if not amend:
            raise TargetRejected(
                f"{self.where}: an amended form (revision {amendment.revision}) cannot be sent: the target has no "
                "config 'amend' (rule: amendments need config amend)"
            )
        reference = self.checked_reference(amendment.external_ref, "the amendment's case reference")
        url = self.url(amend["path"], request.extern_ref, reference)
        body = self.body(request, documents, extern_ref=False)
        self.calls.call("amend", amend.get("method", "POST"), url, json_body=body,
                        headers={self.idempotency_header: request.idempotency_key}, in_doubt=True)
        uploaded = self.upload(request, reference, documents, check_existing=True)
        log.info(
            "rest amendment: submission=%s reference=%s revision=%d documents=%d uploaded=%d",
            request.submission_id, reference, amendment.revision, len(documents), uploaded,
        )
        return DeliveryReceipt(external_ref=reference, created=False)

    # --- StatusFeed (config changes; status_feed.py) ---------------------------------------------------

    def changes(self, since: datetime) -> ChangeBatch:
        return self.feed.changes(since)

    def fetch_document(self, document: DocumentRef) -> FetchedDocument:
        return self.feed.fetch_document(document)

    # --- the steps ------------------------------------------------------------------------------------

    def body(self, request: DeliveryRequest, documents: list[VerifiedDocument], *, extern_ref: bool) -> Any:
        if not isinstance(request.payload, dict):
            raise TargetRejected(f"{self.where}: the outbound mapping's output must be a JSON object (rule: payload)")
        body = copy.deepcopy(request.payload)
        field = self.config.get("extern_ref_field")
        if extern_ref and field:
            pointers.put(body, field, request.extern_ref, f"{self.where}: config extern_ref_field")
        if self.mode == "embedded":
            body, _count = embed(body, self.attachments["items"], self.attachments["content_field"], documents,
                                 self.where)
        return body

    def search(self, extern_ref: str) -> str | None:
        """The reference of the case carrying ``extern_ref``, or None; refused when several cases carry it."""
        search = self.config.get("search")
        if not search:
            return None
        where = f"{self.where}.search"
        values = self.values(extern_ref)
        params = {name: pointers.fill(value, values, where, in_path=False)
                  for name, value in search.get("query", {}).items()}
        answer = self.calls.call("search", "GET", self.url(search["path"], extern_ref), params=params,
                                 tolerate=frozenset({404}))
        if answer.status == 404:
            return None
        items = pointers.get(answer.json(where), search.get("items", ""))
        if not isinstance(items, list):
            raise TargetRejected(f"{where}: the answer has no list at config search/items (rule: search)")
        field = self.config.get("extern_ref_field")
        found: dict[str, None] = {}
        for item in items:
            # A search may match loosely (prefix, full text): a hit showing another extern ref is another case.
            if field and pointers.get(item, field) not in (pointers.MISSING, extern_ref):
                continue
            value = pointers.get(item, search["reference"])
            if value is pointers.MISSING:
                raise TargetRejected(f"{where}: a hit has nothing at config search/reference (rule: search)")
            found[self.checked_reference(value, "config search/reference")] = None
        if len(found) > 1:
            raise TargetRejected(f"{where}: {len(found)} cases carry the extern ref (rule: one case per submission)")
        return next(iter(found), None)

    def create(self, request: DeliveryRequest, body: Any) -> tuple[str, bool]:
        create = self.config["create"]
        conflict = frozenset(create.get("conflict", DEFAULT_CONFLICT)) if self.config.get("search") else frozenset()
        answer = self.calls.call(
            "create", create.get("method", "POST"), self.url(create["path"], request.extern_ref), json_body=body,
            headers={self.idempotency_header: request.idempotency_key}, in_doubt=True, tolerate=conflict,
        )
        if answer.status in conflict:
            # Created meanwhile (a create whose answer was lost, another worker): take that one. A target that
            # creates asynchronously may not show it yet, so not finding it is in doubt, not a refusal.
            found = self.search(request.extern_ref)
            if found is None:
                raise TargetInDoubt(
                    f"{self.where}.create: HTTP {answer.status} (config create/conflict) and no case carries the "
                    "extern ref yet (rule: conflict is in doubt: searched again after the in-doubt delay)"
                )
            return found, False
        replayed = answer.headers.get("Idempotent-Replayed", "").strip().lower() == "true"
        return self.created_reference(answer, request.extern_ref), not replayed

    def upload(self, request: DeliveryRequest, reference: str, documents: list[VerifiedDocument], *,
               check_existing: bool) -> int:
        if self.mode != "upload" or not documents:
            return 0
        present = self.present_digests(request.extern_ref, reference) if check_existing else set()
        url = self.url(self.attachments["path"], request.extern_ref, reference)
        media = _media_types(request.documents)
        sent = 0
        for document in documents:
            if document.sha256 in present:
                continue
            headers = upload_headers(document, media[document.position - 1],
                                     (self.idempotency_header, request.idempotency_key))
            self.calls.call("upload", "POST", url, open_body=partial(document.path.open, "rb"), headers=headers,
                            in_doubt=True)
            sent += 1
        return sent

    def present_digests(self, extern_ref: str, reference: str) -> set[str]:
        """The sha256 of each document the case already has, when config ``attachments.list`` says where."""
        pointer = self.attachments.get("list")
        if pointer is None:
            return set()  # nothing to compare with: every document is sent, its Idempotency-Key guards a repeat
        where = f"{self.where}.attachments"
        url = self.url(self.config["create"]["path"], extern_ref) + "/" + pointers.fill("{r}", {"r": reference}, where)
        listed = pointers.get(self.calls.call("case", "GET", url).json(where), pointer)
        if listed is pointers.MISSING or listed is None:
            return set()
        if not isinstance(listed, list):
            raise TargetRejected(f"{where}: the case has no list at config attachments/list (rule: attachments)")
        return {
            item["sha256"].lower() for item in listed if isinstance(item, dict) and isinstance(item.get("sha256"), str)
        }

    # --- helpers ---------------------------------------------------------------------------------------

    def values(self, extern_ref: str, reference: str | None = None) -> dict[str, str]:
        values = {**self.config["path_values"], EXTERN_REF: extern_ref}
        if reference is not None:
            values[REFERENCE] = reference
        return values

    def url(self, template: str, extern_ref: str, reference: str | None = None) -> str:
        return self.base + pointers.fill(template, self.values(extern_ref, reference), self.where)

    def created_reference(self, answer: Answer, extern_ref: str) -> str:
        where = f"{self.where}.create"
        spec = self.config["reference"]
        if spec.get("extern_ref"):
            return extern_ref
        # The create was accepted (2xx): whatever is wrong with its answer, the case may exist, so in doubt.
        if "json" in spec:
            value = pointers.get(answer.json(where), spec["json"])
            if value is pointers.MISSING:
                raise TargetInDoubt(f"{where}: HTTP {answer.status} but the answer has nothing at config "
                                    f"reference/json (rule: {IN_DOUBT_RULE})")
            return self.checked_reference(value, "config reference/json", TargetInDoubt)
        header = answer.headers.get(spec["header"], "")
        segment = unquote(urlsplit(header).path.rstrip("/").rpartition("/")[2])
        return self.checked_reference(segment, f"config reference/header {spec['header']}", TargetInDoubt)

    def checked_reference(self, value: Any, source: str,
                          error: type[TargetRejected] | type[TargetInDoubt] = TargetRejected) -> str:
        text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if not text.strip() or len(text) > MAX_REFERENCE_LENGTH or not text.isprintable():
            rule = IN_DOUBT_RULE if error is TargetInDoubt else "reference"
            raise error(f"{self.where}: {source} is not a usable case reference (rule: {rule})")
        return text


def _media_types(documents: list[StoredDocument]) -> list[str]:
    return [document.media_type for document in documents]
