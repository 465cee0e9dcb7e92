"""RestTarget's documents: verified before sending, streamed from disk with their digest, uploaded once; or
embedded as base64."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
import requests
from rest_workorder import WORK_ORDER_CONFIG, calls_to, connection_to, delivery

from brygga.connections import Connection
from brygga.errors import TargetInDoubt, TargetRejected
from brygga.plugins import StoredDocument
from brygga_adapters.rest import RestTarget

TWENTY_MB = 20 * 1024 * 1024


@pytest.fixture
def work_orders_elsewhere() -> Iterator[str]:
    """The simulator in a process of its own, so this process's memory is the adapter's alone. Yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "brygga_simulators", "work-order", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        first_line = process.stdout.readline() if process.stdout else ""
        assert "work-order simulator: " in first_line, "the simulator did not start"
        yield first_line.split("work-order simulator: ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_20_mb_document_streams_from_disk_with_its_digest(work_orders_elsewhere, tmp_path):
    path = tmp_path / "ritning"
    chunk = hashlib.sha256(b"ritning").digest() * 32768  # 1 MiB that does not compress to nothing
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(TWENTY_MB // len(chunk)):
            out.write(chunk)
            digest.update(chunk)
    document = StoredDocument("Ritning.pdf", "application/pdf", TWENTY_MB, digest.hexdigest(), path)
    url = work_orders_elsewhere.replace("http://", "http://brygga:s3cret@")
    connection = Connection.from_uri(
        "workorder-kumla",
        f"{url}?allow_http=true&auth=oauth2&token_url=/workorder/v1/oauth2/token&read_timeout=60",
    )
    target = RestTarget(WORK_ORDER_CONFIG, connection)

    tracemalloc.start()
    try:
        receipt = target.deliver(delivery([document]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 6 * 1024 * 1024  # a document read whole would be 20 MiB at least
    base = work_orders_elsewhere.split("/workorder/")[0]
    orders = requests.get(f"{base}/_sim/orders", timeout=10).json()
    assert [order["orderNumber"] for order in orders] == [receipt.external_ref]
    # The simulator checked Repr-Digest against the bytes it got (400 otherwise) and recorded their sha256.
    assert orders[0]["attachments"] == [{"mediaType": "application/pdf", "size": TWENTY_MB,
                                         "sha256": digest.hexdigest()}]


def test_a_stored_file_that_changed_is_refused_before_anything_is_sent(target, work_orders, store_document):
    good = store_document("Foto.jpg", b"\xff\xd8\xff photo")
    tampered = store_document("Karta.pdf", b"%PDF-1.4 karta")
    tampered.path.write_bytes(b"%PDF-1.4 something else")

    with pytest.raises(TargetRejected, match=r"document 2: stored content does not match its recorded sha256"):
        target.deliver(delivery([good, tampered]))

    assert work_orders.app.recorded == []  # no token, no search, no create


def test_each_upload_carries_its_digest_name_and_idempotency_key(recorder, store_document):
    app, running = recorder
    document = store_document("Foto från Storgatan.jpg", b"\xff\xd8\xff photo")
    config = {"create": {"path": "/cases"}, "reference": {"json": "/id"},
              "attachments": {"mode": "upload", "path": "/cases/{reference}/files"}}
    connection = connection_to(running, "api", auth="basic", token_url=None)

    RestTarget(config, connection).deliver(delivery([document]))

    create, upload = app.seen
    assert (create.path, create.headers["Idempotency-Key"]) == ("/cases", "sub-0001:workorder-kumla")
    assert upload.path == "/cases/C-1/files"
    assert upload.body == b"\xff\xd8\xff photo"
    assert upload.headers["Content-Type"] == "application/pdf"
    disposition = upload.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=UTF-8''")
    assert unquote(disposition.split("''", 1)[1]) == "Foto från Storgatan.jpg"
    assert upload.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(document.sha256)).decode()}:"
    assert upload.headers["Idempotency-Key"] == f"sub-0001:workorder-kumla:{document.sha256}"


def test_a_found_case_gets_only_the_documents_it_lacks(target, work_orders, store_document):
    photo = store_document("Foto.jpg", b"\xff\xd8\xff photo")
    map_ = store_document("Karta.pdf", b"%PDF-1.4 karta")
    first = target.deliver(delivery([photo]))

    second = target.deliver(delivery([photo, map_], idempotency_key="sub-0001:again"))

    assert (second.external_ref, second.created) == (first.external_ref, False)
    assert calls_to(work_orders, "/attachments", "POST") == 2  # the photo once, then only the map
    counts = work_orders.app.counts()
    assert counts["attachments_per_order"] == {first.external_ref: 2}
    assert counts["duplicate_attachments"] == {first.external_ref: 0}


def test_a_lost_upload_reply_is_settled_on_the_next_attempt(target, work_orders, store_document):
    photo = store_document("Foto.jpg", b"\xff\xd8\xff photo")
    work_orders.app.faults.set([{"operation": "*/attachments", "action": "lose_reply", "nth": 1}])

    with pytest.raises(TargetInDoubt, match=r"rest workorder-kumla\.upload: the connection closed"):
        target.deliver(delivery([photo]))
    receipt = target.deliver(delivery([photo]))

    assert receipt.created is False
    assert work_orders.app.counts()["attachments_per_order"] == {receipt.external_ref: 1}


EMBEDDED = {
    "create": {"path": "/cases"},
    "reference": {"json": "/id"},
    "attachments": {"mode": "embedded", "items": "/bilagor", "content_field": "innehall"},
}


def test_embedded_documents_are_base64_in_the_body(recorder, store_document):
    app, running = recorder
    document = store_document("Foto.jpg", b"\xff\xd8\xff photo" * 1000)
    payload = {"rubrik": "Felanmälan", "bilagor": [{"namn": "Foto.jpg", "innehall": document.sha256}]}
    connection = connection_to(running, "api", auth="basic", token_url=None)

    RestTarget(EMBEDDED, connection).deliver(delivery([document], payload=payload))

    (create,) = app.seen
    sent = json.loads(create.body)
    assert base64.b64decode(sent["bilagor"][0]["innehall"]) == b"\xff\xd8\xff photo" * 1000
    assert sent["rubrik"] == "Felanmälan"


def test_an_embedded_item_naming_no_document_is_refused(recorder, store_document):
    app, running = recorder
    document = store_document("Foto.jpg", b"\xff\xd8\xff photo")
    payload = {"bilagor": [{"innehall": "0" * 64}]}
    connection = connection_to(running, "api", auth="basic", token_url=None)

    with pytest.raises(TargetRejected, match=r"attachment item 0 field 'innehall' names no document"):
        RestTarget(EMBEDDED, connection).deliver(delivery([document], payload=payload))
    assert app.seen == []
    assert RestTarget.preflight(EMBEDDED, {}, {"bilagor": [{"innehall": "x"}]}) == [
        "rest: attachment item 0 field 'innehall' must hold a document's sha256 (rule: embedded)"
    ]
