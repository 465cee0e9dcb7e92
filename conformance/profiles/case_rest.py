"""``case-rest``: Brygga's REST case API, as the route kumla-felanmalan's target ``workorder`` uses it.

The contract is the work-order API: POST /orders (create, ``Idempotency-Key``), GET /orders?externalRef= (search,
check before create), GET /orders/{orderNumber} (the case, with its attachments' sha256 and size), POST
/orders/{orderNumber}/attachments (one raw upload per document); errors are RFC 9457 problem bodies; OAuth2 client
credentials. Its OpenAPI 3.1 document ships as ``brygga_simulators/workorder/openapi.json`` (case_rest_contract).
Every felanmälan sample goes through the route's outbound mapping and Brygga's own ``rest`` adapter, configured as
in the bundled routes.yaml; the profile then reads the case back, repeats the delivery, re-sends the create and an
upload as a retry after a lost answer would, and sends two bodies the API must refuse.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

from brygga.connections import Connection
from brygga.errors import BryggaError
from brygga.plugins import DeliveryRequest
from brygga_adapters.http import timeouts
from brygga_adapters.rest import RestTarget, pointers
from brygga_adapters.rest.config import DEFAULT_CONFLICT
from brygga_adapters.rest.documents import upload_headers, verify_all
from brygga_conformance.endpoint import LOGIN_ENV, PASSWORD_ENV, Endpoint
from brygga_conformance.model import (
    CASE_REFERENCE,
    DOCUMENTS_INTACT,
    FAULT_ON_INVALID,
    IDEMPOTENT_REPEAT,
    REPLY_SHAPE,
)
from brygga_conformance.profiles import Profile
from brygga_conformance.profiles.case_rest_contract import PROBLEM_JSON, Contract, Exchange
from brygga_conformance.profiles.case_rest_http import ReplyWatch, exchange, send_raw
from brygga_conformance.recorder import CaseLog, Recorder
from brygga_conformance.samples import Sample, SampleSet

# The invalid create leaves out a field the contract's WorkOrderCreate requires.
LEFT_OUT = "category"
REPLAYED = "Idempotent-Replayed"
PER_SAMPLE = (CASE_REFERENCE, DOCUMENTS_INTACT, IDEMPOTENT_REPEAT, REPLY_SHAPE)

Listed = list[tuple[str | None, int | None]]  # a case's attachments: (sha256, size), as far as they are shown


class CaseRestProfile(Profile):
    name = "case-rest"
    title = "REST case API (work-order API: JSON, OAuth2)"
    contract = (
        "Brygga's REST case API, the work-order API 1.0 (OpenAPI document brygga_simulators/workorder/openapi.json), "
        "as route kumla-felanmalan's target workorder uses it: create, search by externalRef, attachments with sha256"
    )
    options: ClassVar[dict[str, str]] = {
        "auth": f"oauth2 (default: client credentials, the client id and secret in {LOGIN_ENV} and {PASSWORD_ENV}), "
                "basic, bearer or api_key",
        "token_url": "with auth=oauth2: the token endpoint (default: the endpoint's path + /oauth2/token)",
    }
    checks = (*PER_SAMPLE, FAULT_ON_INVALID)
    route_id = "kumla-felanmalan"
    target_id = "workorder"

    def __init__(self, endpoint: Endpoint, samples: SampleSet, run_id: str) -> None:
        super().__init__(endpoint, samples, run_id)
        self.config = samples.target_config(self.route_id, self.target_id)
        self.api = Contract.bundled()

    def run(self, record: Recorder) -> None:
        samples = self.target_samples()
        try:
            self.target = RestTarget(self.config, self.connection())
        except BryggaError as exc:
            with record.case(CASE_REFERENCE) as log:
                log.fail(f"Brygga's rest adapter cannot use the endpoint: {exc}")
            self.skip(record, self.checks[1:], "the endpoint cannot be used (see case-reference)")
            return
        watch = ReplyWatch(self.target.calls.session, urlsplit(self.target.base).path)
        with watch.watching():
            if not samples:
                self.skip(record, PER_SAMPLE, f"no {' or '.join(self.case_types)} sample in the sample set")
            for sample in samples:
                self.sample(record, watch, sample)
            self.fault_on_invalid(record)

    def connection(self) -> Connection:
        """The endpoint as an OAuth2 client unless told otherwise (--option auth=..., or in the URL's query)."""
        given = self.endpoint.connection().extra
        extra: dict[str, str] = {}
        if "auth" not in given:
            extra["auth"] = "oauth2"
        if given.get("auth", "oauth2") == "oauth2" and "token_url" not in given:
            extra["token_url"] = urlsplit(self.endpoint.url).path.rstrip("/") + "/oauth2/token"
        return self.endpoint.connection(**extra)

    # --- per sample ------------------------------------------------------------------------------

    def sample(self, record: Recorder, watch: ReplyWatch, sample: Sample) -> None:
        request = self.delivery(sample)
        reference: str | None = None
        with record.case(CASE_REFERENCE, sample.name) as log:
            reference = self.case_reference(log, request, sample)
        if reference is None or record.outcome(CASE_REFERENCE, sample.name) != "passed":
            self.skip(record, (DOCUMENTS_INTACT, IDEMPOTENT_REPEAT), "case-reference failed", sample.name)
        else:
            self.documents_intact(record, request, sample, reference)
            with record.case(IDEMPOTENT_REPEAT, sample.name) as log:
                self.idempotent_repeat(log, request, sample, reference)
        replies = watch.take()
        if not replies:
            record.skip(REPLY_SHAPE, sample.name, "skipped: no reply came back to check")
            return
        with record.case(REPLY_SHAPE, sample.name) as log:
            for finding in self.api.reply_findings(replies):
                log.fail(finding)
            log.note(f"{len(replies)} replies checked against the work-order API {self.api.version} document")

    def case_reference(self, log: CaseLog, request: DeliveryRequest, sample: Sample) -> str | None:
        try:
            receipt = self.target.deliver(request)
        except BryggaError as exc:
            log.fail(f"delivering {sample.name} failed: {exc}")
            return None
        log.note(f"{self.config['create'].get('method', 'POST')} {self.config['create']['path']} -> "
                 f"{receipt.external_ref} (created={receipt.created}, {len(sample.documents)} document(s))")
        if not receipt.created:
            log.fail(f"the first delivery of {sample.name} came back as an existing case {receipt.external_ref} "
                     f"(created=False); expected a new case for the run's own externalRef {request.extern_ref}")
        return receipt.external_ref

    def documents_intact(self, record: Recorder, request: DeliveryRequest, sample: Sample, reference: str) -> None:
        if not sample.documents:
            record.skip(DOCUMENTS_INTACT, sample.name, "skipped: the sample has no documents")
            return
        if not self.config.get("attachments", {}).get("list"):
            record.skip(DOCUMENTS_INTACT, sample.name,
                        "skipped: the route config has no attachments.list, so the case's documents cannot be read")
            return
        with record.case(DOCUMENTS_INTACT, sample.name) as log:
            listed = self.attachments(log, request.extern_ref, reference)
            if listed is None:
                return
            for position, document in enumerate(sample.documents, 1):
                matches = [size for sha256, size in listed if sha256 == document.sha256.lower()]
                described = _document(position, document.media_type, document.size, document.sha256)
                if not matches:
                    others = [entry for entry in listed if entry[0] != document.sha256.lower()]
                    log.fail(f"{described} of {sample.name} is not among case {reference}'s attachments: it lists "
                             f"{_listed(others)}; expected the same bytes (sha256 and size)")
                elif any(size != document.size for size in matches):
                    log.fail(f"case {reference} lists {described} of {sample.name} with size "
                             f"{', '.join(map(str, matches))}; expected {document.size} bytes")
                else:
                    log.note(f"{described}: sha256 and size as sent")

    def idempotent_repeat(self, log: CaseLog, request: DeliveryRequest, sample: Sample, reference: str) -> None:
        self.repeat_delivery(log, request, sample, reference)
        self.search_finds_one(log, request.extern_ref, reference)
        before = self.document_counts(log, request, reference, sample)
        for position, (document, count) in enumerate(zip(sample.documents, before or [], strict=False), 1):
            if count > 1:
                log.fail(f"after the second delivery case {reference} holds "
                         f"{_document(position, document.media_type, document.size, document.sha256)} {count} "
                         "times; expected once")
        self.resend_create(log, request, sample, reference)
        if before is not None and self.config.get("attachments", {}).get("mode") == "upload":
            self.resend_upload(log, request, sample, reference, before)

    def repeat_delivery(self, log: CaseLog, request: DeliveryRequest, sample: Sample, reference: str) -> None:
        try:
            again = self.target.deliver(self.delivery(sample, repeat=1))
        except BryggaError as exc:
            log.fail(f"the second delivery of {sample.name} failed: {exc}; expected the same case {reference}")
            return
        if again.external_ref != reference:
            log.fail(f"the second delivery of {sample.name} created a new case {again.external_ref} (first: "
                     f"{reference}); expected the same case (externalRef {request.extern_ref})")
        elif again.created:
            log.fail(f"the second delivery of {sample.name} was answered as a new creation of case {reference} "
                     f"(created=True): the search did not show the case and the create's answer had no "
                     f"{REPLAYED}: true; expected created=False")
        else:
            log.note(f"second delivery -> {reference} (created=False)")

    def search_finds_one(self, log: CaseLog, extern_ref: str, reference: str) -> None:
        search = self.config.get("search")
        if not search:
            log.note("no search in the route config: the case is not searched for")
            return
        try:
            found = self.search(search, extern_ref)
        except BryggaError as exc:
            log.fail(f"a search by externalRef {extern_ref} failed: {exc}; expected case {reference}")
            return
        if found == [reference]:
            log.note(f"search by externalRef -> {reference}")
        elif not found:
            log.fail(f"a search by externalRef {extern_ref} (config search) found no case; expected {reference} "
                     "(Brygga searches before it creates: a case it cannot find is created again)")
        else:
            log.fail(f"a search by externalRef {extern_ref} found {len(found)} cases ({', '.join(found)}); "
                     f"expected one ({reference})")

    def search(self, search: dict[str, Any], extern_ref: str) -> list[str]:
        """The references of the cases a search by ``extern_ref`` shows carrying it (as the adapter reads a hit)."""
        where = f"{self.target.where}.search"
        values = self.target.values(extern_ref)
        params = {name: pointers.fill(value, values, where, in_path=False)
                  for name, value in search.get("query", {}).items()}
        answer = self.target.calls.call("search", "GET", self.target.url(search["path"], extern_ref), params=params,
                                        tolerate=frozenset({404}))
        if answer.status == 404:
            return []
        items = pointers.get(answer.json(where), search.get("items", ""))
        if not isinstance(items, list):
            raise BryggaError(f"{where}: the answer has no list at config search/items")
        field = self.config.get("extern_ref_field")
        hits = [pointers.get(item, search["reference"]) for item in items
                if not field or pointers.get(item, field) in (pointers.MISSING, extern_ref)]
        return ["(no reference)" if hit is pointers.MISSING else str(hit) for hit in hits]

    def document_counts(self, log: CaseLog, request: DeliveryRequest, reference: str,
                        sample: Sample) -> list[int] | None:
        """How often the case lists each of the sample's documents; None when it cannot show them."""
        if not sample.documents or not self.config.get("attachments", {}).get("list"):
            return None
        listed = self.attachments(log, request.extern_ref, reference)
        if listed is None:
            return None
        return [sum(1 for sha256, _ in listed if sha256 == document.sha256.lower()) for document in sample.documents]

    def resend_create(self, log: CaseLog, request: DeliveryRequest, sample: Sample, reference: str) -> None:
        """The create once more with its Idempotency-Key, as a retry after a lost answer sends it when the search
        cannot show the case yet: the first answer replayed, or a conflict status, never a second case."""
        create = self.config["create"]
        conflict = frozenset(create.get("conflict", DEFAULT_CONFLICT))
        expected = f"expected the first answer replayed ({REPLAYED}: true) or HTTP {'/'.join(map(str, conflict))}"
        what = f"the create of {sample.name} re-sent with the same Idempotency-Key (as after a lost answer)"
        try:
            answer = self.target.calls.call(
                "create", create.get("method", "POST"), self.target.url(create["path"], request.extern_ref),
                json_body=self.target.body(request, [], extern_ref=True),
                headers={self.target.idempotency_header: request.idempotency_key}, in_doubt=True, tolerate=conflict)
            if answer.status in conflict:
                log.note(f"create re-sent with the same Idempotency-Key -> HTTP {answer.status}")
                return
            again = self.target.created_reference(answer, request.extern_ref)
        except BryggaError as exc:
            log.fail(f"{what} failed: {exc}; {expected}")
            return
        if again != reference:
            log.fail(f"{what} created a new case {again} (first: {reference}); {expected}")
        elif answer.headers.get(REPLAYED, "").strip().lower() != "true":
            log.fail(f"{what} came back with case {reference} but without {REPLAYED}: true, so Brygga takes it "
                     f"as newly created; {expected}")
        else:
            log.note(f"create re-sent with the same Idempotency-Key -> {reference} ({REPLAYED}: true)")

    def resend_upload(self, log: CaseLog, request: DeliveryRequest, sample: Sample, reference: str,
                      before: list[int]) -> None:
        """Document 1 once more with its Idempotency-Key (``<key>:<sha256>``), as a retry after a lost answer."""
        first = verify_all(request.documents)[0]
        described = _document(1, sample.documents[0].media_type, first.size, first.sha256)
        headers = upload_headers(first, sample.documents[0].media_type,
                                 (self.target.idempotency_header, request.idempotency_key))
        url = self.target.url(self.config["attachments"]["path"], request.extern_ref, reference)
        try:
            self.target.calls.call("upload", "POST", url, open_body=partial(first.path.open, "rb"), headers=headers,
                                   in_doubt=True)
        except BryggaError as exc:
            log.fail(f"{described} of {sample.name} re-sent with the same Idempotency-Key failed: {exc}; expected "
                     "the first answer replayed")
            return
        after = self.document_counts(log, request, reference, sample)
        if after is not None and after[0] > before[0] and after[0] > 1:
            log.fail(f"{described} of {sample.name} re-sent with the same Idempotency-Key (as after a lost answer) "
                     f"was stored again: case {reference} now holds it {after[0]} times; expected the first answer "
                     "replayed")
        elif after is not None:
            log.note("upload re-sent with the same Idempotency-Key: stored once")

    def attachments(self, log: CaseLog, extern_ref: str, reference: str) -> Listed | None:
        """The case's attachments as GET {create.path}/{reference} lists them (config attachments.list)."""
        pointer = self.config["attachments"]["list"]
        where = f"{self.target.where}.case"
        try:
            url = (self.target.url(self.config["create"]["path"], extern_ref) + "/"
                   + pointers.fill("{r}", {"r": reference}, where))
            listed = pointers.get(self.target.calls.call("case", "GET", url).json(where), pointer)
        except BryggaError as exc:
            log.fail(f"reading case {reference} back failed: {exc}")
            return None
        if not isinstance(listed, list):
            log.fail(f"case {reference} has no attachment list at {pointer} (config attachments/list); expected "
                     "one entry per document with its sha256 and size")
            return None
        return [(item["sha256"].lower() if isinstance(item.get("sha256"), str) else None,
                 item["size"] if isinstance(item.get("size"), int) else None)
                for item in listed if isinstance(item, dict)]

    # --- once per run ----------------------------------------------------------------------------

    def fault_on_invalid(self, record: Recorder) -> None:
        """Two create bodies the contract refuses; each must get a 4xx with a problem body."""
        extern_ref = f"conformance-{self.run_id}-invalid"
        valid = {"externalRef": extern_ref, "category": "ovrigt", "title": "Brygga conformance: invalid input",
                 "description": "Sent by brygga conformance; the API must refuse it."}
        text = json.dumps(valid)
        inputs = (
            ("a create body that is not JSON", text[: text.index('"title"') + 9].encode()),
            (f"a create body without the required field {LEFT_OUT}",
             json.dumps({key: value for key, value in valid.items() if key != LEFT_OUT}).encode()),
        )
        create = self.config["create"]
        url = self.target.url(create["path"], extern_ref)
        path = urlsplit(url).path
        with record.case(FAULT_ON_INVALID) as log:
            for what, body in inputs:
                try:
                    response = send_raw(self.target.calls.session, create.get("method", "POST"), url, data=body,
                                        content_type="application/json", timeout=timeouts(self.target.connection))
                except BryggaError as exc:  # e.g. the token endpoint refused the client: nothing was judged
                    log.fail(f"{what} could not be sent: {exc}")
                    continue
                with response:
                    self.judge_fault(log, what, exchange(response, path))

    def judge_fault(self, log: CaseLog, what: str, reply: Exchange) -> None:
        got = f"{what} got HTTP {reply.status} ({reply.media_type or 'no Content-Type'})"
        expected = f"expected HTTP 4xx with a problem body ({PROBLEM_JSON})"
        if 200 <= reply.status < 300:
            case = self.accepted_reference(reply)
            log.fail(f"{what} was accepted: HTTP {reply.status}{f' (case {case})' if case else ''}; {expected}")
            return
        problem = _json(reply) if reply.media_type == PROBLEM_JSON else None
        if reply.status >= 500:
            log.fail(f"{got} {'with' if isinstance(problem, dict) else 'without'} a problem body; {expected}: a 5xx "
                     "says the service failed, not that the input was wrong")
        elif not 400 <= reply.status < 500:
            log.fail(f"{got}; {expected}")
        elif reply.status in (401, 403, 407):
            log.fail(f"{got}: the credentials were refused, so the input was never judged; {expected}")
        elif problem is None:
            log.fail(f"{got} without a problem body; {expected}")
        elif broken := self.api.problem_findings(problem):
            log.fail(f"{got}: the problem body breaks the contract's Problem schema: {'; '.join(broken)}")
        elif problem.get("status") != reply.status:
            log.fail(f"{got}: the problem body's status is {problem.get('status')}; expected {reply.status}")
        else:
            log.note(f"{what} -> HTTP {reply.status} {PROBLEM_JSON}")

    def accepted_reference(self, reply: Exchange) -> str | None:
        pointer = self.config["reference"].get("json")
        body = _json(reply)
        value = pointers.get(body, pointer) if pointer and body is not None else None
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _json(reply: Exchange) -> Any:
    try:
        return reply.json()
    except ValueError:
        return None


def _document(position: int, media_type: str, size: int, sha256: str) -> str:
    """A document as findings name it: never by its file name, which a resident chose."""
    return f"document {position} ({media_type}, {size} bytes, sha256 {sha256})"


def _listed(entries: Listed, shown: int = 5) -> str:
    if not entries:
        return "no other attachment"
    described = [f"{size if size is not None else '?'} bytes, sha256 {sha256 or '(none)'}"
                 for sha256, size in entries[:shown]]
    more = f" and {len(entries) - shown} more" if len(entries) > shown else ""
    return f"{len(entries)} other attachment(s): {'; '.join(described)}{more}"
